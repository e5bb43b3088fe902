//! The JSON Schema of a workspace config with the keys of every registered
//! resource: `mirage config schema` prints it.

use serde_json::{Map, Value, json};

use crate::WorkspaceConfig;

/// The JSON Schema (draft 2020-12, as schemars writes it) of the workspace
/// config document, in which a mount's `config:` object is checked against
/// the schema of its `resource:` type: `MountConfig` is the generic mount
/// (`allOf`) plus a `oneOf` with one branch per registered resource type
/// (`resource` equal to its name, `config` its
/// `ResourceRegistration::config_schema`). Each resource's own
/// definitions are moved into the root `$defs` as `NAME.Def`, so two
/// resources cannot clash.
pub fn workspace_schema() -> Value {
    let mut root = WorkspaceConfig::json_schema();
    let mut branches = Vec::new();
    let mut extra_defs = Map::new();
    for reg in mirage_ops::resource_types() {
        let mut schema = serde_json::to_value((reg.config_schema)()).unwrap_or(Value::Bool(true));
        let prefix = format!("{}.", reg.name);
        if let Some(Value::Object(defs)) = schema.as_object_mut().and_then(|o| o.remove("$defs")) {
            for (k, mut v) in defs {
                rewrite_refs(&mut v, &prefix);
                extra_defs.insert(format!("{prefix}{k}"), v);
            }
        }
        rewrite_refs(&mut schema, &prefix);
        if let Some(o) = schema.as_object_mut() {
            o.remove("$schema");
            o.insert(
                "description".into(),
                Value::String(format!("`{}` config: {}", reg.name, reg.summary)),
            );
        }
        branches.push(json!({
            "properties": {
                "resource": { "const": reg.name },
                "config": schema,
            },
            "required": ["resource"],
        }));
    }
    let Some(defs) = root.get_mut("$defs").and_then(Value::as_object_mut) else {
        return root;
    };
    if let Some(generic) = defs.remove("MountConfig") {
        defs.insert("MountConfigBase".into(), generic);
        defs.insert(
            "MountConfig".into(),
            json!({
                "description": "One mount: the generic keys, and `config` as the `resource` type defines it.",
                "allOf": [ { "$ref": "#/$defs/MountConfigBase" } ],
                "oneOf": branches,
            }),
        );
    }
    defs.extend(extra_defs);
    root
}

/// Rewrites `#/$defs/X` references inside a resource's schema to
/// `#/$defs/PREFIXX`.
fn rewrite_refs(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(o) => {
            for (k, val) in o.iter_mut() {
                match val {
                    Value::String(s) if k == "$ref" => {
                        if let Some(rest) = s.strip_prefix("#/$defs/") {
                            *s = format!("#/$defs/{prefix}{rest}");
                        }
                    }
                    _ => rewrite_refs(val, prefix),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, prefix)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_each_resource_branch_and_keeps_the_rest() {
        // Link the RAM and disk resources into this test binary.
        std::hint::black_box(mirage_resource_ram::RamResource::new as fn() -> _);
        std::hint::black_box(mirage_resource_disk::DiskResource::open as fn(&_) -> _);
        let names: Vec<_> = mirage_ops::resource_types()
            .iter()
            .map(|r| r.name)
            .collect();
        assert!(
            names.contains(&"ram") && names.contains(&"disk"),
            "{names:?}"
        );
        let s = workspace_schema();
        let defs = &s["$defs"];
        assert!(defs["MountConfigBase"]["properties"]["resource"].is_object());
        let branches = defs["MountConfig"]["oneOf"].as_array().unwrap();
        for reg in mirage_ops::resource_types() {
            let b = branches
                .iter()
                .find(|b| b["properties"]["resource"]["const"] == reg.name)
                .unwrap_or_else(|| panic!("no branch for {}", reg.name));
            assert!(b["properties"]["config"].is_object(), "{b}");
        }
        assert!(s["properties"]["mounts"].is_object());
    }

    #[test]
    fn refs_are_prefixed() {
        let mut v = json!({"a": {"$ref": "#/$defs/X"}, "b": [{"$ref": "#/$defs/Y"}]});
        rewrite_refs(&mut v, "disk.");
        assert_eq!(v["a"]["$ref"], "#/$defs/disk.X");
        assert_eq!(v["b"][0]["$ref"], "#/$defs/disk.Y");
    }
}
