//! Command lookup in seed 001's resolution order.

use mirage_types::command::CommandRegistration;

/// Finds the handler for `name`: first one registered for
/// `(name, resource, filetype)`, then `(name, resource)`, then the general
/// `(name)`. `None` when no command has that name.
pub fn resolve(
    name: &str,
    resource: Option<&str>,
    filetype: Option<&str>,
) -> Option<&'static CommandRegistration> {
    let all = || {
        inventory::iter::<CommandRegistration>
            .into_iter()
            .filter(move |r| r.name == name)
    };
    if let Some(res) = resource {
        if let Some(ft) = filetype
            && let Some(r) = all().find(|r| r.resource == Some(res) && r.filetype == Some(ft))
        {
            return Some(r);
        }
        if let Some(r) = all().find(|r| r.resource == Some(res) && r.filetype.is_none()) {
            return Some(r);
        }
    }
    if let Some(ft) = filetype
        && let Some(r) = all().find(|r| r.resource.is_none() && r.filetype == Some(ft))
    {
        return Some(r);
    }
    all().find(|r| r.resource.is_none() && r.filetype.is_none())
}

/// Every registration of `name`: the general handler and those for a
/// resource or a file type, in link order.
pub fn registrations(name: &str) -> impl Iterator<Item = &'static CommandRegistration> + '_ {
    inventory::iter::<CommandRegistration>
        .into_iter()
        .filter(move |r| r.name == name)
}

/// Whether `name` has a handler that can run on a mount of `resource`:
/// one registered for that resource, or a general one.
pub fn runs_on(name: &str, resource: &str) -> bool {
    registrations(name).any(|r| r.resource.is_none_or(|res| res == resource))
}

/// Every registered command name, sorted and deduplicated.
pub fn command_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = inventory::iter::<CommandRegistration>
        .into_iter()
        .map(|r| r.name)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}
