//! The arguments of the guards on how the caller authenticated: `#[require_mfa]`,
//! `#[require_factors(any(totp, passkey))]`, `#[require_recent_auth(max_age = "5m")]`.

use darling::ast::NestedMeta;
use darling::Error;
use proc_macro2::{Span, TokenStream};
use syn::{Expr, Lit, Meta};

use super::model::{Kind, Requirement};

/// The `FactorKind` variant a guard keyword names.
fn factor_variant(name: &syn::Ident) -> Option<&'static str> {
    match name.to_string().as_str() {
        "password" => Some("Password"),
        "totp" => Some("Totp"),
        "backup_code" => Some("BackupCode"),
        "passkey" => Some("Passkey"),
        _ => None,
    }
}

/// Seconds in a duration written `"30s"`, `"5m"`, `"2h"`, `"1d"` (or a bare number of
/// seconds); `None` for anything else, zero included.
pub(crate) fn duration_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    number.checked_mul(scale).filter(|s| *s > 0)
}

fn factors(list: &syn::MetaList, errors: &mut darling::error::Accumulator) -> Vec<syn::Ident> {
    let Some(metas) =
        errors.handle(NestedMeta::parse_meta_list(list.tokens.clone()).map_err(Error::from))
    else {
        return Vec::new();
    };
    if metas.is_empty() {
        errors.push(
            Error::custom("name at least one factor, e.g. `any(totp, passkey)`").with_span(list),
        );
    }
    metas
        .iter()
        .filter_map(|meta| {
            let ident = match meta {
                NestedMeta::Meta(Meta::Path(path)) => path.get_ident(),
                _ => None,
            };
            match ident.map(|i| (i, factor_variant(i))) {
                Some((ident, Some(variant))) => Some(syn::Ident::new(variant, ident.span())),
                found => {
                    let what = found.map_or_else(|| "this".to_owned(), |(i, _)| format!("`{i}`"));
                    errors.push(
                        Error::custom(format!(
                            "unknown factor {what}; use `password`, `totp`, `backup_code` or `passkey`"
                        ))
                        .with_span(meta),
                    );
                    None
                }
            }
        })
        .collect()
}

/// `max_age = "5m"`: the seconds.
fn max_age(metas: &[NestedMeta], errors: &mut darling::error::Accumulator) -> u64 {
    const USAGE: &str = "write `#[require_recent_auth(max_age = \"5m\")]` (s, m, h or d)";
    let [NestedMeta::Meta(Meta::NameValue(pair))] = metas else {
        errors.push(Error::custom(USAGE).with_span(&Span::call_site()));
        return 1;
    };
    if !pair.path.is_ident("max_age") {
        errors.push(Error::custom(USAGE).with_span(&pair.path));
        return 1;
    }
    let seconds = match &pair.value {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(text) => duration_seconds(&text.value()),
            Lit::Int(int) => int.base10_parse::<u64>().ok().filter(|s| *s > 0),
            _ => None,
        },
        _ => None,
    };
    seconds.unwrap_or_else(|| {
        errors.push(
            Error::custom(format!(
                "`max_age` must be a positive duration such as \"30s\", \"5m\", \"2h\" or \"1d\"; {USAGE}"
            ))
            .with_span(&pair.value),
        );
        1
    })
}

/// Parses the arguments of a factor guard into its requirement.
pub(crate) fn parse(kind: Kind, args: TokenStream) -> darling::Result<Requirement> {
    let metas = NestedMeta::parse_meta_list(args)?;
    let mut errors = Error::accumulator();
    let requirement = match kind {
        Kind::Mfa => {
            if let Some(first) = metas.first() {
                errors.push(
                    Error::custom("`#[require_mfa]` takes no arguments; name factors with `#[require_factors(any(totp, passkey))]`")
                        .with_span(first),
                );
            }
            Requirement::Mfa
        }
        Kind::RecentAuth => Requirement::RecentAuth(max_age(&metas, &mut errors)),
        _ => match metas.as_slice() {
            [NestedMeta::Meta(Meta::List(list))] if list.path.is_ident("any") => {
                Requirement::AnyFactor(factors(list, &mut errors))
            }
            [NestedMeta::Meta(Meta::List(list))] if list.path.is_ident("all") => {
                Requirement::AllFactors(factors(list, &mut errors))
            }
            _ => {
                errors.push(
                    Error::custom(
                        "write `#[require_factors(any(totp, passkey))]` or `#[require_factors(all(password, totp))]`",
                    )
                    .with_span(&Span::call_site()),
                );
                Requirement::Mfa
            }
        },
    };
    errors.finish_with(requirement)
}

#[cfg(test)]
mod tests {
    use super::duration_seconds;

    #[test]
    fn durations_in_seconds_minutes_hours_and_days() {
        assert_eq!(duration_seconds("30s"), Some(30));
        assert_eq!(duration_seconds("5m"), Some(300));
        assert_eq!(duration_seconds("2h"), Some(7_200));
        assert_eq!(duration_seconds("1d"), Some(86_400));
        assert_eq!(duration_seconds("90"), Some(90));
        for bad in [
            "",
            "0m",
            "5 minutes",
            "m",
            "-5m",
            "5x",
            "99999999999999999999d",
        ] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }
}
