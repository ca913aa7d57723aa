//! Segment membership as boolean masks over the contacts, combined in Rust.
//!
//! Only the leaves of a condition (field tests, aggregate tests, key lists)
//! become polars expressions, evaluated together in one pass over the
//! feature table. `all`, `any`, `not` and `{segment: …}` are combined here,
//! over whole bitmaps, in dependency order: a chain of thousands of segment
//! references, or a condition nested thousands of levels deep, stays one
//! flat query instead of an expression tree polars would walk again for
//! every level.

use std::collections::HashMap;

use polars::prelude::*;

/// A condition over the contacts, its leaves still expressions.
pub enum Mask {
    Const(bool),
    Leaf(Expr),
    All(Vec<Mask>),
    Any(Vec<Mask>),
    Not(Box<Mask>),
    /// The members of another segment, combined before this one.
    Member(String),
}

impl Mask {
    /// AND of `parts`, simplified: nested ANDs merged, constants folded.
    pub fn all(parts: Vec<Mask>) -> Mask {
        Mask::junction(parts, true)
    }

    /// OR of `parts`, simplified likewise.
    pub fn any(parts: Vec<Mask>) -> Mask {
        Mask::junction(parts, false)
    }

    fn junction(parts: Vec<Mask>, and: bool) -> Mask {
        let mut flat = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                // true is neutral for AND, false for OR.
                Mask::Const(b) if b == and => {}
                Mask::Const(b) => return Mask::Const(b),
                Mask::All(inner) if and => flat.extend(inner),
                Mask::Any(inner) if !and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Mask::Const(and),
            1 => flat.pop().unwrap_or(Mask::Const(and)),
            _ if and => Mask::All(flat),
            _ => Mask::Any(flat),
        }
    }

    #[allow(clippy::should_implement_trait)] // a constructor that simplifies, not an operator
    pub fn not(m: Mask) -> Mask {
        match m {
            Mask::Const(b) => Mask::Const(!b),
            Mask::Not(inner) => *inner,
            other => Mask::Not(Box::new(other)),
        }
    }
}

/// A mask whose leaves are numbered columns of the leaf frame.
enum Node {
    Const(bool),
    Leaf(usize),
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Member(String),
}

/// Masks to evaluate, in an order where every referenced segment comes first.
#[derive(Default)]
pub struct Program {
    leaves: Vec<Expr>,
    masks: Vec<(String, Node)>,
}

fn leaf_name(i: usize) -> String {
    crate::types::columns::leaf(i)
}

impl Program {
    /// Adds the mask of `name`; masks it refers to must be added before.
    pub fn push(&mut self, name: &str, mask: Mask) {
        let node = self.number(mask);
        self.masks.push((name.to_string(), node));
    }

    fn number(&mut self, m: Mask) -> Node {
        match m {
            Mask::Const(b) => Node::Const(b),
            Mask::Leaf(e) => {
                self.leaves.push(e);
                Node::Leaf(self.leaves.len() - 1)
            }
            Mask::All(ms) => Node::All(ms.into_iter().map(|m| self.number(m)).collect()),
            Mask::Any(ms) => Node::Any(ms.into_iter().map(|m| self.number(m)).collect()),
            Mask::Not(m) => Node::Not(Box::new(self.number(*m))),
            Mask::Member(a) => Node::Member(a),
        }
    }

    /// Evaluates every mask over `frame` and returns them by name. A leaf
    /// that is missing a value counts as false: leaves are never unknown.
    pub fn evaluate(self, frame: &DataFrame) -> PolarsResult<HashMap<String, BooleanChunked>> {
        let height = frame.height();
        let exprs: Vec<Expr> = self.leaves.into_iter().enumerate().map(|(i, e)| e.fill_null(lit(false)).alias(leaf_name(i))).collect();
        let leaves = if exprs.is_empty() { DataFrame::empty() } else { crate::exec::run_in_memory(frame.clone().lazy().select(exprs))? };
        let mut done: HashMap<String, BooleanChunked> = HashMap::new();
        for (name, node) in self.masks {
            let mut mask = eval(&node, &leaves, &done, height)?;
            mask.rename(name.as_str().into());
            done.insert(name, mask);
        }
        Ok(done)
    }
}

fn eval(node: &Node, leaves: &DataFrame, done: &HashMap<String, BooleanChunked>, height: usize) -> PolarsResult<BooleanChunked> {
    let full = |b: bool| BooleanChunked::full("".into(), b, height);
    Ok(match node {
        Node::Const(b) => full(*b),
        Node::Leaf(i) => {
            let c = leaves.column(&leaf_name(*i))?.bool()?.clone();
            // A leaf that does not read any column is a single value.
            if c.len() == height {
                c
            } else {
                full(c.get(0).unwrap_or(false))
            }
        }
        Node::Member(alias) => match done.get(alias) {
            Some(m) => m.clone(),
            None => polars_bail!(ComputeError: "segment `{}` is evaluated before the segments it uses", alias),
        },
        Node::Not(n) => !&eval(n, leaves, done, height)?,
        Node::All(ns) | Node::Any(ns) => {
            let and = matches!(node, Node::All(_));
            let mut acc = full(and);
            for n in ns {
                let m = eval(n, leaves, done, height)?;
                acc = if and { &acc & &m } else { &acc | &m };
            }
            acc
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bools(m: &BooleanChunked) -> Vec<bool> {
        m.iter().map(|b| b.unwrap_or(false)).collect()
    }

    #[test]
    fn simplifies_while_building() {
        assert!(matches!(Mask::not(Mask::not(Mask::Member("a".into()))), Mask::Member(_)));
        assert!(matches!(Mask::all(vec![Mask::Const(true), Mask::Member("a".into())]), Mask::Member(_)));
        assert!(matches!(Mask::any(vec![Mask::Const(true), Mask::Member("a".into())]), Mask::Const(true)));
        assert!(matches!(Mask::all(vec![]), Mask::Const(true)));
        assert!(matches!(Mask::any(vec![]), Mask::Const(false)));
    }

    #[test]
    fn combines_leaves_references_and_missing_values() {
        let frame = df!["x" => [Some(1), Some(5), None, Some(9)]].unwrap();
        let mut p = Program::default();
        p.push("big", Mask::Leaf(col("x").gt(lit(3))));
        // A missing x fails `gt`, so "not big" holds for it.
        p.push("small", Mask::not(Mask::Member("big".into())));
        p.push("odd_big", Mask::all(vec![Mask::Member("big".into()), Mask::Leaf(col("x").neq(lit(5)))]));
        p.push("always", Mask::Leaf(lit(true)));
        let m = p.evaluate(&frame).unwrap();
        assert_eq!(bools(&m["big"]), [false, true, false, true]);
        assert_eq!(bools(&m["small"]), [true, false, true, false]);
        assert_eq!(bools(&m["odd_big"]), [false, false, false, true]);
        assert_eq!(bools(&m["always"]), [true, true, true, true]);
    }
}
