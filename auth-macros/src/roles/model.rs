//! Validating a `#[derive(Roles)]` enum: unknown parents and inheritance cycles are errors on
//! the offending variant.

use std::collections::HashMap;

use darling::Error;

use super::attr::variant_opts;
use crate::name_ref::NameRef;
use crate::named_enum::{unit_enum, UnitEnum};
use crate::naming;

pub(crate) struct Role {
    pub(crate) ident: syn::Ident,
    pub(crate) name: String,
    /// Indexes of the parents in `RolesEnum::roles`.
    pub(crate) parents: Vec<usize>,
    pub(crate) permissions: Vec<NameRef>,
}

pub(crate) struct RolesEnum {
    pub(crate) ident: syn::Ident,
    pub(crate) roles: Vec<Role>,
}

/// The first cycle reachable from `start`, as variant indexes, if any.
fn find_cycle(parents: &[Vec<usize>], start: usize) -> Option<Vec<usize>> {
    fn walk(
        parents: &[Vec<usize>],
        node: usize,
        path: &mut Vec<usize>,
        done: &mut [bool],
    ) -> Option<Vec<usize>> {
        if let Some(pos) = path.iter().position(|&n| n == node) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        if done[node] {
            return None;
        }
        path.push(node);
        for &parent in &parents[node] {
            if let Some(cycle) = walk(parents, parent, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done[node] = true;
        None
    }
    walk(
        parents,
        start,
        &mut Vec::new(),
        &mut vec![false; parents.len()],
    )
}

pub(crate) fn validate(input: syn::DeriveInput) -> darling::Result<RolesEnum> {
    let (UnitEnum { ident, variants }, mut errors) = unit_enum(input, "Roles")?;
    let index: HashMap<String, usize> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| (v.ident.to_string(), i))
        .collect();
    let mut roles = Vec::new();
    let mut names: HashMap<String, syn::Ident> = HashMap::new();
    for variant in &variants {
        let opts = errors.handle(variant_opts(variant)).unwrap_or_default();
        let name = opts.name.as_ref().map_or_else(
            || naming::role_name(&variant.ident.to_string()),
            syn::LitStr::value,
        );
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            errors.push(
                Error::custom("a role name cannot be empty or contain spaces")
                    .with_span(&variant.ident),
            );
        }
        if let Some(first) = names.insert(name.clone(), variant.ident.clone()) {
            errors.push(
                Error::custom(format!("`{name}` is already the name of `{first}`"))
                    .with_span(&variant.ident),
            );
        }
        let mut parents = Vec::new();
        for parent in opts.inherits.iter() {
            let found = parent.get_ident().and_then(|i| index.get(&i.to_string()));
            match found {
                Some(&i) => parents.push(i),
                None => {
                    let known: Vec<String> =
                        variants.iter().map(|v| format!("`{}`", v.ident)).collect();
                    errors.push(
                        Error::custom(format!(
                            "unknown role `{}`; `inherits(...)` names variants of this enum: {}",
                            quote::quote!(#parent).to_string().replace(' ', ""),
                            known.join(", ")
                        ))
                        .with_span(parent),
                    );
                }
            }
        }
        for permission in &opts.permissions.0 {
            errors.handle(permission.check("permission"));
        }
        roles.push(Role {
            ident: variant.ident.clone(),
            name,
            parents,
            permissions: opts.permissions.0,
        });
    }
    let parents: Vec<Vec<usize>> = roles.iter().map(|r| r.parents.clone()).collect();
    for (i, role) in roles.iter().enumerate() {
        if let Some(cycle) = find_cycle(&parents, i) {
            // Report each cycle once, on its first variant in declaration order.
            if cycle.iter().min() == Some(&i) {
                let path: Vec<String> = cycle.iter().map(|&n| roles[n].ident.to_string()).collect();
                errors.push(
                    Error::custom(format!(
                        "role inheritance cycle: {}; remove one of these `inherits`",
                        path.join(" -> ")
                    ))
                    .with_span(&role.ident),
                );
            }
        }
    }
    errors.finish_with(RolesEnum { ident, roles })
}
