//! The effective configuration of an application: its config bundles, its
//! runtime files and its own settings merged in order, every value keeping
//! the file and position it came from so rules can point at it.

use std::collections::{BTreeMap, HashMap};

use crate::diag::{Diagnostic, Diagnostics, FileId, Span};
use crate::model::Configuration;

use super::raw::{RawCloudWatch, RawConfiguration, RawManagedPersistence, RawMonitoring, Sp, Toggle};

/// One property of a classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Property {
    /// Where the key is written.
    pub key_span: Span,
    /// The value, after variable substitution.
    pub value: String,
    /// Where the value is written.
    pub value_span: Span,
}

/// One runtime configuration classification with positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Classification {
    /// `spark-defaults`.
    pub name: String,
    /// Where the name is written (the last source that mentioned it).
    pub name_span: Span,
    /// Properties by key.
    pub properties: BTreeMap<String, Property>,
    /// Nested classifications.
    pub children: Vec<Classification>,
}

/// Reads one list of classifications (from one table or one file). Two
/// entries with the same classification are merged, with a warning, because
/// the service's treatment of duplicates is not documented.
pub(crate) fn classifications(
    entries: &[Sp<RawConfiguration>],
    file: FileId,
    diagnostics: &mut Diagnostics,
) -> Vec<Classification> {
    let mut out: Vec<Classification> = Vec::new();
    // Position in `out` by name: a search of `out` per entry made a list
    // of n classifications take n² comparisons (80,000 took 25 s).
    let mut index: HashMap<String, usize> = HashMap::new();
    for entry in entries {
        // An entry without a classification is reported by the structural check.
        let Some(converted) = convert(entry.get(), file, diagnostics) else {
            continue;
        };
        match index.get(&converted.name).map(|&at| &mut out[at]) {
            Some(existing) => {
                diagnostics.push(
                    Diagnostic::warning(
                        "classification.duplicate",
                        format!("classification `{}` is listed twice", converted.name),
                    )
                    .at(converted.name_span.clone())
                    .with_label(existing.name_span.clone(), "first listed here")
                    .with_help("merge the two entries; emrstack merges them, later properties winning"),
                );
                merge_one(existing, &converted);
            }
            None => {
                index.insert(converted.name.clone(), out.len());
                out.push(converted);
            }
        }
    }
    out
}

fn convert(raw: &RawConfiguration, file: FileId, diagnostics: &mut Diagnostics) -> Option<Classification> {
    let name = raw.classification.as_ref()?;
    let properties = raw
        .properties
        .iter()
        .map(|(key, value)| {
            (
                key.get().clone(),
                Property {
                    key_span: Span::new(file, key.range()),
                    value: value.get().clone(),
                    value_span: Span::new(file, value.range()),
                },
            )
        })
        .collect();
    let children: Vec<Sp<RawConfiguration>> = raw.configurations.clone();
    Some(Classification {
        name: name.get().clone(),
        name_span: Span::new(file, name.range()),
        properties,
        children: classifications(&children, file, diagnostics),
    })
}

fn merge_one(base: &mut Classification, overlay: &Classification) {
    base.name_span = overlay.name_span.clone();
    for (key, property) in &overlay.properties {
        base.properties.insert(key.clone(), property.clone());
    }
    merge(&mut base.children, &overlay.children);
}

/// Merges `overlay` into `base`: classifications by name, properties key by
/// key (the overlay wins), nested classifications recursively. New
/// classifications keep their order after the existing ones.
pub(crate) fn merge(base: &mut Vec<Classification>, overlay: &[Classification]) {
    if overlay.is_empty() {
        return;
    }
    // Names are unique within `base` (`classifications` merges duplicates),
    // so an index by name finds each in one step.
    let mut index: HashMap<String, usize> = base
        .iter()
        .enumerate()
        .map(|(at, existing)| (existing.name.clone(), at))
        .collect();
    for item in overlay {
        match index.get(&item.name) {
            Some(&at) => merge_one(&mut base[at], item),
            None => {
                index.insert(item.name.clone(), base.len());
                base.push(item.clone());
            }
        }
    }
}

/// The classification called `name` at the top level of `list`.
pub(crate) fn find<'a>(list: &'a [Classification], name: &str) -> Option<&'a Classification> {
    list.iter().find(|c| c.name == name)
}

/// The property `key` of the top-level classification `classification`.
pub(crate) fn property<'a>(list: &'a [Classification], classification: &str, key: &str) -> Option<&'a Property> {
    find(list, classification).and_then(|c| c.properties.get(key))
}

/// Every classification of `list`, nested ones included, with its depth.
pub(crate) fn walk(list: &[Classification]) -> Vec<&Classification> {
    let mut out = Vec::new();
    for item in list {
        out.push(item);
        out.extend(walk(&item.children));
    }
    out
}

/// The model's form of a classification list.
pub(crate) fn to_model(list: &[Classification]) -> Vec<Configuration> {
    list.iter()
        .map(|item| Configuration {
            classification: item.name.clone(),
            properties: item
                .properties
                .iter()
                .map(|(key, property)| (key.clone(), property.value.clone()))
                .collect(),
            configurations: to_model(&item.children),
        })
        .collect()
}

/// The effective monitoring settings: each key taken from the last source
/// (config bundle or application) that sets it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Monitoring<'r> {
    /// `s3_log_uri`.
    pub s3_log_uri: Option<&'r Sp<String>>,
    /// `s3_encryption_key_arn`.
    pub s3_encryption_key_arn: Option<&'r Sp<String>>,
    /// `managed_persistence`.
    pub managed_persistence: Option<&'r Sp<Toggle<RawManagedPersistence>>>,
    /// `cloudwatch`.
    pub cloudwatch: Option<&'r Sp<Toggle<RawCloudWatch>>>,
    /// `prometheus_remote_write_url`.
    pub prometheus_remote_write_url: Option<&'r Sp<String>>,
}

impl<'r> Monitoring<'r> {
    /// Applies the keys `raw` sets on top of the current ones.
    pub(crate) fn overlay(&mut self, raw: &'r RawMonitoring) {
        if raw.s3_log_uri.is_some() {
            self.s3_log_uri = raw.s3_log_uri.as_ref();
        }
        if raw.s3_encryption_key_arn.is_some() {
            self.s3_encryption_key_arn = raw.s3_encryption_key_arn.as_ref();
        }
        if raw.managed_persistence.is_some() {
            self.managed_persistence = raw.managed_persistence.as_ref();
        }
        if raw.cloudwatch.is_some() {
            self.cloudwatch = raw.cloudwatch.as_ref();
        }
        if raw.prometheus_remote_write_url.is_some() {
            self.prometheus_remote_write_url = raw.prometheus_remote_write_url.as_ref();
        }
    }

    /// Whether CloudWatch logging ends up enabled.
    pub(crate) fn cloudwatch_enabled(&self) -> bool {
        match self.cloudwatch.map(|c| c.get()) {
            Some(Toggle::Bool(enabled)) => *enabled,
            Some(Toggle::Table(table)) => table.enabled.as_ref().is_none_or(|e| *e.get()),
            None => false,
        }
    }

    /// Whether managed persistence ends up enabled (the service default is on).
    pub(crate) fn managed_persistence_enabled(&self) -> bool {
        match self.managed_persistence.map(|c| c.get()) {
            Some(Toggle::Bool(enabled)) => *enabled,
            Some(Toggle::Table(table)) => table.enabled.as_ref().is_none_or(|e| *e.get()),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, props: &[(&str, &str)], children: Vec<Classification>) -> Classification {
        let span = Span::new(FileId(0), 0..0);
        Classification {
            name: name.to_string(),
            name_span: span.clone(),
            properties: props
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Property {
                            key_span: span.clone(),
                            value: v.to_string(),
                            value_span: span.clone(),
                        },
                    )
                })
                .collect(),
            children,
        }
    }

    #[test]
    fn merge_is_per_classification_per_property_and_recursive() {
        let mut base = vec![
            item("spark-defaults", &[("a", "1"), ("b", "1")], vec![]),
            item("spark-env", &[], vec![item("export", &[("X", "1")], vec![])]),
        ];
        let overlay = vec![
            item("spark-defaults", &[("b", "2"), ("c", "2")], vec![]),
            item("spark-env", &[], vec![item("export", &[("Y", "2")], vec![])]),
            item("hive-site", &[("h", "1")], vec![]),
        ];
        merge(&mut base, &overlay);
        let model = to_model(&base);
        let names: Vec<&str> = model.iter().map(|c| c.classification.as_str()).collect();
        assert_eq!(names, vec!["spark-defaults", "spark-env", "hive-site"]);
        assert_eq!(model[0].properties["a"], "1");
        assert_eq!(model[0].properties["b"], "2");
        assert_eq!(model[0].properties["c"], "2");
        assert_eq!(model[1].configurations[0].properties.len(), 2);
    }
}
