//! JSON Schemas (draft 2020-12) of segment files and of `audience.yaml`,
//! built from the key catalog the parsers use, for editors that validate
//! YAML as it is typed.

use serde_json::{json, Map, Value};

use crate::catalog::{self, Key, Shape};
use crate::segment::ast::{AGGS, OPS, PRESETS};

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

pub fn segment() -> Value {
    let mut root = object(catalog::SEGMENT);
    let extra = root.as_object_mut().expect("an object schema");
    extra.insert("$schema".into(), DRAFT.into());
    extra.insert("title".into(), "audience segment file".into());
    extra.insert("description".into(), "One segment: a condition over contacts, and how its list is written. See docs/segments.md.".into());
    // A segment needs a condition, a scope or an include.
    extra.insert("anyOf".into(), json!([{"required": ["where"]}, {"required": ["scope"]}, {"required": ["include"]}]));
    extra.insert("$defs".into(), conditions());
    root
}

pub fn project() -> Value {
    let mut root = object(catalog::PROJECT);
    let extra = root.as_object_mut().expect("an object schema");
    extra.insert("$schema".into(), DRAFT.into());
    extra.insert("title".into(), "audience project file (audience.yaml)".into());
    extra.insert("description".into(), "The exports, tables, metrics and settings of an audience project. See docs/project.md.".into());
    extra.insert("$defs".into(), conditions());
    root
}

/// The condition forms, as definitions both schemas refer to: a contact
/// condition may hold table and segment leaves, a row condition may not.
fn conditions() -> Value {
    let list = |r: &str| json!({"type": "array", "items": {"$ref": r}});
    let forms = |r: &str, contact: bool| {
        let mut forms = vec![
            json!({"type": "object", "properties": {"all": list(r)}, "required": ["all"], "additionalProperties": false, "description": "Every condition holds (AND)"}),
            json!({"type": "object", "properties": {"any": list(r)}, "required": ["any"], "additionalProperties": false, "description": "At least one condition holds (OR)"}),
            json!({"type": "object", "properties": {"not": {"$ref": r}}, "required": ["not"], "additionalProperties": false, "description": "The condition does not hold"}),
            object(catalog::FIELD_CONDITION),
        ];
        if contact {
            forms.push(object(catalog::TABLE_CONDITION));
            forms.push(json!({"type": "object", "properties": {"segment": {"type": "string", "description": "A segment's alias"}}, "required": ["segment"], "additionalProperties": false, "description": "A member of another segment"}));
        }
        json!({"anyOf": forms})
    };
    json!({"condition": forms("#/$defs/condition", true), "row_condition": forms("#/$defs/row_condition", false)})
}

fn object(keys: &[Key]) -> Value {
    let mut props = Map::new();
    for k in keys {
        let mut s = shape(&k.shape);
        if let Some(m) = s.as_object_mut() {
            m.insert("description".into(), k.help.into());
        }
        props.insert(k.name.into(), if k.required { s } else { nullable(s) });
    }
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let mut out = json!({"type": "object", "properties": props, "additionalProperties": false});
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    out
}

/// The parsers read a null (`key:` with nothing after it) as the key left out.
fn nullable(s: Value) -> Value {
    json!({"anyOf": [s, {"type": "null"}]})
}

fn words<'a>(w: impl IntoIterator<Item = &'a str>) -> Value {
    json!({"enum": w.into_iter().collect::<Vec<_>>()})
}

fn shape(s: &Shape) -> Value {
    match s {
        // YAML reads `alias: 2025` as a number; the parsers take its text.
        Shape::Text => json!({"type": ["string", "number"]}),
        Shape::Bool => json!({"type": "boolean"}),
        Shape::Int { min, max } => {
            let mut v = json!({"type": "integer", "minimum": min});
            if let Some(max) = max {
                v["maximum"] = json!(max);
            }
            v
        }
        Shape::Number => json!({"type": "number"}),
        Shape::Word(w) => words(w.iter().copied()),
        Shape::Percent => json!({"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$"}),
        Shape::Any => json!({}),
        Shape::Object(keys) => object(keys),
        Shape::Named(inner) => json!({"type": "object", "additionalProperties": shape(inner)}),
        Shape::List(inner) => json!({"type": "array", "items": shape(inner)}),
        Shape::Either(shapes) => json!({"anyOf": shapes.iter().map(shape).collect::<Vec<_>>()}),
        Shape::Condition => json!({"$ref": "#/$defs/condition"}),
        Shape::RowCondition => json!({"$ref": "#/$defs/row_condition"}),
        Shape::Op => words(OPS.iter().map(|(n, _)| *n)),
        Shape::Agg => words(AGGS.iter().map(|(n, _)| *n)),
        Shape::Preset => words(PRESETS.iter().map(|(n, _)| *n)),
        Shape::RfmPreset => words(crate::rfm::preset_names().iter().copied()),
    }
}
