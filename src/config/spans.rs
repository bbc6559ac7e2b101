//! Positions of declared resources and their fields, so that later stages
//! (plan) can point problems they find online at the line that caused them.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{FileId, Span};
use crate::model::{Address, ResourceKind};

use super::structure::{MAX_SHOWN_KEY_BYTES, Segment, render_path};

/// Where each resource and each of its fields is declared.
///
/// Field paths are written as in the stack file, relative to the resource:
/// `release_label`, `image.tag`, `subnet_ids[1]`,
/// `initial_capacity.driver.memory`, `runtime[0].properties."spark.executor.memory"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanIndex {
    resources: BTreeMap<Address, Span>,
    fields: BTreeMap<(Address, String), Span>,
    /// The values of the `[stack]` table by key (`account_id`).
    stack: BTreeMap<String, Span>,
}

impl SpanIndex {
    /// The resource's header (`[applications.etl]`), or its key when it is
    /// declared inline.
    pub fn resource(&self, address: &Address) -> Option<Span> {
        self.resources.get(address).cloned()
    }

    /// The value of the field at `path`, falling back to the resource when
    /// the field is not written (a default, or inherited from a config bundle).
    pub fn field(&self, address: &Address, path: &str) -> Option<Span> {
        self.fields
            .get(&(address.clone(), path.to_string()))
            .cloned()
            .or_else(|| self.resource(address))
    }

    /// The value of a `[stack]` key (`account_id`), when it is written.
    pub fn stack_field(&self, key: &str) -> Option<Span> {
        self.stack.get(key).cloned()
    }

    /// Records the position of a field read from another file (a policy file).
    pub(crate) fn insert_field(&mut self, address: &Address, path: &str, span: Span) {
        self.fields.insert((address.clone(), path.to_string()), span);
    }

    /// Indexes every resource of a parsed stack file.
    pub(crate) fn build(root: &DeTable<'_>, file: FileId, source: &str) -> SpanIndex {
        let mut index = SpanIndex::default();
        if let Some(stack) = root.get("stack").and_then(|s| s.get_ref().as_table()) {
            for (key, value) in stack.iter() {
                index
                    .stack
                    .insert(key.get_ref().to_string(), Span::new(file, value.span()));
            }
        }
        for kind in ResourceKind::ALL {
            let Some(section) = root.get(kind.table()).and_then(|s| s.get_ref().as_table()) else {
                continue;
            };
            for (key, value) in section.iter() {
                let address = Address::new(kind, key.get_ref().to_string());
                index
                    .resources
                    .insert(address.clone(), Span::new(file, resource_range(key, value, source)));
                // Fields of a resource whose key is invalid (an error) are
                // not indexed: every entry would copy the key.
                if super::text::is_resource_key(&address.name) {
                    let mut path = Vec::new();
                    index.walk(&address, value, file, &mut path);
                }
            }
        }
        index
    }

    fn walk(&mut self, address: &Address, value: &Spanned<DeValue<'_>>, file: FileId, path: &mut Vec<Segment>) {
        // A key longer than any the language uses is not indexed, nor is
        // anything under it: every path below would repeat it, and a
        // lookup of such a field falls back to the resource.
        if matches!(path.last(), Some(Segment::Key(key)) if key.len() > MAX_SHOWN_KEY_BYTES) {
            return;
        }
        if !path.is_empty() {
            self.fields
                .insert((address.clone(), render_path(path)), Span::new(file, value.span()));
        }
        match value.get_ref() {
            DeValue::Table(table) => {
                for (key, item) in table.iter() {
                    path.push(Segment::Key(key.get_ref().to_string()));
                    self.walk(address, item, file, path);
                    path.pop();
                }
            }
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Segment::Index(i));
                    self.walk(address, item, file, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

/// The best position for a whole resource: its `[section.key]` header when
/// it has one, otherwise its key.
pub(crate) fn resource_range(
    key: &Spanned<std::borrow::Cow<'_, str>>,
    value: &Spanned<DeValue<'_>>,
    source: &str,
) -> Range<usize> {
    let range = value.span();
    let is_header = value.get_ref().is_table() && source.get(range.clone()).is_some_and(|text| text.starts_with('['));
    if is_header { range } else { key.span() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_headers_fields_and_array_items() {
        let source = "[networks.private]\nsubnet_ids = [\"subnet-a\", \"subnet-b\"]\n\n[applications]\netl = { type = \"SPARK\", image = { tag = \"v1\" } }\n";
        let (root, errors) = DeTable::parse_recoverable(source);
        assert!(errors.is_empty());
        let index = SpanIndex::build(root.get_ref(), FileId(0), source);
        let network = Address::network("private");
        let text = |span: Option<Span>| span.map(|s| source[s.range].to_string());
        assert_eq!(text(index.resource(&network)).as_deref(), Some("[networks.private]"));
        assert_eq!(
            text(index.field(&network, "subnet_ids[1]")).as_deref(),
            Some("\"subnet-b\"")
        );
        let app = Address::application("etl");
        assert_eq!(text(index.resource(&app)).as_deref(), Some("etl"));
        assert_eq!(text(index.field(&app, "image.tag")).as_deref(), Some("\"v1\""));
        assert_eq!(text(index.field(&app, "release_label")).as_deref(), Some("etl"));
    }
}
