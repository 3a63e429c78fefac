use auth_axum::core::authz::{PermissionSchema, RoleSchema};
use auth_axum::{Permissions, Roles};

#[derive(Debug, Clone, Copy, Permissions)]
enum Perm {
    ArticlesRead,
    #[permission("articles.write", label = "Write", description = "Edit articles")]
    ArticlesWrite,
    #[permission(name = "reports.limit", kind = "integer", default = "10")]
    ReportLimit,
    #[permission(kind = "string", allowed = "eu", allowed = "us", default = "eu")]
    DataRegion,
}

#[derive(Debug, Clone, Copy, Roles)]
enum Role {
    #[role(permissions(Perm::ArticlesRead))]
    Viewer,
    #[role(inherits(Viewer), permissions(Perm::ArticlesWrite, "comments.*"))]
    Editor,
    #[role(name = "root", inherits(Editor, Viewer))]
    Admin,
}

fn main() {
    assert_eq!(Perm::ALL.len(), 4);
    assert_eq!(Perm::schema()[2].default, Some("10"));
    assert_eq!(Perm::DataRegion.as_str(), "data.region");
    assert_eq!(Perm::schema()[3].allowed_values, ["eu", "us"]);
    assert_eq!(Role::Admin.as_str(), "root");
    let _ = Role::hierarchy();
}
