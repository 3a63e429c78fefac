//! Parsing and validation without the compiler, and a snapshot of one expansion.

use expect_test::expect;
use quote::quote;

use super::model::Kind;
use super::{attr, codegen, model};

fn errors(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> Vec<String> {
    let handler: syn::ItemFn = syn::parse2(item).unwrap();
    match attr::parse(args).and_then(|a| model::validate(kind, a, handler)) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn collects_every_error_at_once() {
    let found = errors(
        Kind::Roles,
        quote!(""),
        quote!(
            fn handler(&self) {}
        ),
    );
    assert_eq!(
        found,
        [
            "`#[require_roles]` guards `async fn` handlers; add `async`",
            "`#[require_roles]` cannot guard a method; use a free `async fn`",
            "a role name cannot be empty or contain spaces",
        ]
    );
}

#[test]
fn tenant_roles_need_a_role_and_no_credential_kinds() {
    let handler = quote!(
        async fn h() {}
    );
    assert_eq!(
        errors(Kind::TenantRoles, quote!(), handler.clone()),
        ["`#[require_tenant_roles]` needs at least one role, e.g. `#[require_tenant_roles(\"admin\")]`"]
    );
    assert_eq!(
        errors(Kind::TenantRoles, quote!(any(bearer), "admin"), handler),
        ["credential kinds go on `#[require_auth(any(...))]`, not on `#[require_tenant_roles]`"]
    );
}

#[test]
fn accepts_every_form() {
    for (kind, args) in [
        (Kind::Auth, quote!()),
        (Kind::Auth, quote!(any(bearer, cookie))),
        (Kind::Roles, quote!("editor", "admin")),
        (Kind::Roles, quote!(all(Role::Editor, "reviewer"))),
        (Kind::TenantRoles, quote!("admin")),
        (Kind::TenantRoles, quote!(all(Role::Admin, "auditor"))),
        (
            Kind::Permissions,
            quote!(Perm::ArticlesWrite, "articles.publish"),
        ),
        (Kind::Public, quote!()),
    ] {
        assert_eq!(
            errors(
                kind,
                args.clone(),
                quote!(
                    async fn h() {}
                )
            ),
            Vec::<String>::new(),
            "{args}"
        );
    }
}

#[test]
fn expansion_snapshot() {
    let handler: syn::ItemFn = syn::parse2(quote! {
        /// Docs stay.
        pub async fn update(Json(body): Json<Value>) -> StatusCode { StatusCode::OK }
    })
    .unwrap();
    let guard = attr::parse(quote!("editor", Role::Admin))
        .and_then(|a| model::validate(Kind::Roles, a, handler))
        .unwrap();
    let tokens = codegen::expand(
        guard,
        &quote!(::auth_axum::__private),
        "\"editor\", Role::Admin",
    );
    let file: syn::File = syn::parse2(tokens).unwrap();
    let pretty = prettyplease::unparse(&file);
    // The hash in the marker name depends on the attribute text; blank it for the snapshot.
    let pretty = pretty
        .split("__auth_guard_update_")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                format!(
                    "__auth_guard_update_HASH{}",
                    part.trim_start_matches(|c: char| c.is_ascii_hexdigit())
                )
            }
        })
        .collect::<String>();
    expect![[r#"
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        pub struct __auth_guard_update_HASH;
        #[automatically_derived]
        impl ::auth_axum::__private::SingleGuard for __auth_guard_update_HASH {
            const REQUIREMENT: ::auth_axum::__private::Requirement = ::auth_axum::__private::Requirement::AnyRole(
                &["editor", Role::Admin.as_str()],
            );
        }
        /// Docs stay.
        pub async fn update(
            _: ::auth_axum::__private::Guard<__auth_guard_update_HASH>,
            Json(body): Json<Value>,
        ) -> StatusCode {
            StatusCode::OK
        }
    "#]]
    .assert_eq(&pretty);
}
