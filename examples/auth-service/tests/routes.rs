//! `auth-service routes`: the access-control matrix, derived from the guards, printed
//! without a database.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;
use common::command;

#[test]
fn routes_prints_the_access_control_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).arg("routes").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "\
POST    /auth/register                                   public
POST    /auth/login                                      public
POST    /auth/refresh                                    public
POST    /auth/logout                                     requires authentication
GET     /auth/me                                         requires authentication
PATCH   /auth/me                                         requires authentication
GET     /auth/sessions                                   requires authentication
DELETE  /auth/sessions                                   requires authentication
DELETE  /auth/sessions/{id}                              requires authentication
POST    /auth/password/forgot                            public
POST    /auth/password/reset                             public
POST    /auth/password/change                            requires authentication
POST    /auth/verify-email                               public
POST    /auth/verify-email/resend                        requires authentication
POST    /auth/email/change                               requires authentication
POST    /auth/email/confirm                              public
GET     /auth/me/security-events                         requires authentication
POST    /auth/api-keys                                   requires authentication
GET     /auth/api-keys                                   requires authentication
DELETE  /auth/api-keys/{id}                              requires authentication
GET     /auth/mfa                                        requires authentication
POST    /auth/mfa/verify                                 public
POST    /auth/mfa/step-up                                requires authentication
POST    /auth/mfa/totp/enroll                            requires authentication
POST    /auth/mfa/totp/confirm                           requires authentication
DELETE  /auth/mfa/totp                                   requires authentication
POST    /auth/mfa/backup-codes                           requires authentication
POST    /auth/passkeys/register/start                    requires authentication
POST    /auth/passkeys/register/finish                   requires authentication
GET     /auth/passkeys                                   requires authentication
DELETE  /auth/passkeys/{id}                              requires authentication
POST    /auth/passkeys/login/start                       public
POST    /auth/passkeys/login/finish                      public
POST    /auth/passkeys/step-up/start                     requires authentication
POST    /auth/passkeys/step-up/finish                    requires authentication
GET     /.well-known/openid-configuration                public
GET     /oauth/authorize                                 public
POST    /oauth/authorize                                 public
POST    /oauth/token                                     public
POST    /oauth/introspect                                public
POST    /oauth/revoke                                    public
GET     /oauth/userinfo                                  requires authentication
POST    /oauth/register                                  requires authentication
POST    /auth/oauth/token                                public
GET     /auth/oauth/providers                            public
GET     /auth/oauth/{provider}/authorize                 public
GET     /auth/oauth/{provider}/callback                  public
POST    /auth/oauth/{provider}/link                      requires authentication
GET     /auth/identities                                 requires authentication
DELETE  /auth/identities/{id}                            requires authentication
POST    /auth/ldap/login                                 public
GET     /auth/saml/{provider}/metadata                   public
GET     /auth/saml/{provider}/login                      public
POST    /auth/saml/{provider}/acs                        public
GET     /health                                          public
GET     /ready                                           public
GET     /.well-known/jwks.json                           public
GET     /articles                                        requires permission `articles.read`
POST    /articles                                        requires permission `articles.write`
DELETE  /articles/{id}                                   requires any of the roles `admin`
GET     /users/{user_id}/articles                        requires policy `has_role(\"admin\") || user.id == path.user_id`
GET     /profile                                         requires authentication
GET     /admin/users                                     requires any of the roles `admin`
POST    /admin/users/{user_id}/deactivate                requires any of the roles `admin`
POST    /admin/users/{user_id}/reactivate                requires any of the roles `admin`
POST    /admin/users/{user_id}/unlock                    requires any of the roles `admin`
GET     /admin/audit                                     requires any of the roles `admin`
GET     /login                                           public
GET     /openapi.json                                    public
GET     /auth/user                                       requires authentication
POST    /services                                        requires any of the roles `admin`
PUT     /services/{service}/permissions                  requires authentication
GET     /services/{service}/permissions                  requires authentication
POST    /services/{service}/permissions                  requires authentication
DELETE  /services/{service}/permissions/{id}             requires authentication
PUT     /services/{service}/users/{user_id}/permissions  requires authentication
GET     /services/{service}/metadata/{user_id}           requires authentication
PUT     /services/{service}/metadata/{user_id}           requires authentication
GET     /services/{service}/users/{user_id}              requires authentication
GET     /services/{service}/users                        requires authentication
GET     /tenant/settings                                 requires any of the roles `admin` in the request's tenant
PUT     /tenants/{tenant}/users/{user_id}/roles/{role}   requires any of the roles `admin`
DELETE  /tenants/{tenant}/users/{user_id}/roles/{role}   requires any of the roles `admin`
"
    );
    assert!(
        !dir.path().join("auth.db").exists(),
        "printing routes touches no database"
    );
}
