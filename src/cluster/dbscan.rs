//! DBSCAN with Euclidean distance, labelled in the order scikit-learn's
//! `DBSCAN` labels: points in input order, each unlabelled core point
//! starting a cluster that grows depth-first through core points.
//! Neighbours are found through a grid of cells `eps` wide over (at most)
//! the first three dimensions, so only nearby cells are compared.

use std::collections::HashMap;

use super::{dist_sq, Points};

/// A label per point; `None` is noise. A point's neighbourhood includes the
/// point itself and every point at distance `eps` or less.
pub fn dbscan(points: &Points, eps: f64, min_samples: usize) -> Vec<Option<usize>> {
    let n = points.len();
    let grid = Grid::new(points, eps);
    let core: Vec<bool> = (0..n).map(|i| grid.neighbours(points, i).len() >= min_samples).collect();
    let mut labels: Vec<Option<usize>> = vec![None; n];
    let mut next = 0;
    let mut stack = Vec::new();
    for i in 0..n {
        if labels[i].is_some() || !core[i] {
            continue;
        }
        stack.push(i);
        while let Some(p) = stack.pop() {
            if labels[p].is_some() {
                continue;
            }
            labels[p] = Some(next);
            if core[p] {
                stack.extend(grid.neighbours(points, p).into_iter().filter(|q| labels[*q].is_none()));
            }
        }
        next += 1;
    }
    labels
}

struct Grid {
    eps: f64,
    axes: usize,
    cells: HashMap<Vec<i64>, Vec<usize>>,
}

impl Grid {
    fn new(points: &Points, eps: f64) -> Grid {
        let axes = points.dims.min(3);
        let mut cells: HashMap<Vec<i64>, Vec<usize>> = HashMap::new();
        let mut grid = Grid { eps, axes, cells: HashMap::new() };
        for (i, p) in points.rows().enumerate() {
            cells.entry(grid.cell(p)).or_default().push(i);
        }
        grid.cells = cells;
        grid
    }

    fn cell(&self, p: &[f64]) -> Vec<i64> {
        p[..self.axes].iter().map(|x| if self.eps > 0.0 { (x / self.eps).floor() as i64 } else { 0 }).collect()
    }

    /// The points within `eps` of point `i`, in input order.
    fn neighbours(&self, points: &Points, i: usize) -> Vec<usize> {
        let p = points.row(i);
        let home = self.cell(p);
        let eps_sq = self.eps * self.eps;
        let mut found = Vec::new();
        let mut offset = vec![-1i64; self.axes];
        loop {
            let cell: Vec<i64> = home.iter().zip(&offset).map(|(h, o)| h + o).collect();
            if let Some(members) = self.cells.get(&cell) {
                found.extend(members.iter().copied().filter(|q| dist_sq(p, points.row(*q)) <= eps_sq));
            }
            // The next of the 3^axes neighbouring cells.
            let Some(j) = offset.iter().position(|o| *o < 1) else { break };
            offset[j] += 1;
            offset[..j].iter_mut().for_each(|o| *o = -1);
        }
        found.sort_unstable();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_dense_groups_and_a_lone_point() {
        let p = Points::new(2, vec![0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 9.0, 9.0, 9.0, 9.5, 9.5, 9.0, 4.0, 4.0]);
        let labels = dbscan(&p, 1.0, 3);
        assert_eq!(labels, vec![Some(0), Some(0), Some(0), Some(1), Some(1), Some(1), None]);
        // The same points compared pairwise give the same neighbourhoods.
        let all: Vec<Vec<usize>> = (0..p.len()).map(|i| (0..p.len()).filter(|j| dist_sq(p.row(i), p.row(*j)) <= 1.0).collect()).collect();
        let grid = Grid::new(&p, 1.0);
        assert_eq!((0..p.len()).map(|i| grid.neighbours(&p, i)).collect::<Vec<_>>(), all);
    }

    #[test]
    fn a_chain_of_core_points_is_one_cluster_with_its_ends_as_borders() {
        // 1, 2 and 3 are core (three neighbours each); 0 and 4 are reached from them.
        let p = Points::new(1, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(dbscan(&p, 1.0, 3), vec![Some(0), Some(0), Some(0), Some(0), Some(0)]);
        assert_eq!(dbscan(&p, 1.0, 4), vec![None; 5]);
    }
}
