//! What can go wrong signing in with another provider, or linking and unlinking its
//! accounts.

/// A federated sign-in or link refused. Messages name no secret and never say whether an
/// account of this service exists, except to the signed-in owner of one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// No provider of that name is configured (404).
    #[error("no sign-in provider is called `{0}`")]
    UnknownProvider(String),
    /// The callback's `state` is missing, unknown, expired, used already, or was not started
    /// by this browser (its binding cookie differs): a forged or replayed callback (400).
    #[error(
        "the sign-in's state is unknown, expired or not this browser's; start the sign-in again"
    )]
    InvalidState,
    /// The provider answered the sign-in with an error (the user declined, say) (401).
    #[error("the provider refused the sign-in: {0}")]
    Denied(String),
    /// The provider refused to exchange the code: used already, issued to another client or
    /// for another PKCE verifier (401).
    #[error("the provider refused the authorization code: {0}")]
    CodeRejected(String),
    /// The provider's ID token failed a check: signature, issuer, audience, expiry, nonce (401).
    #[error("the provider's ID token is not valid: {0}")]
    InvalidIdToken(String),
    /// A SAML response failed a check: signature, destination, recipient, issuer, audience,
    /// validity window, or the request it answers (401).
    #[error("the identity provider's response is not valid: {0}")]
    InvalidAssertion(String),
    /// The provider gave no address for an account that would need one (422).
    #[error("the provider did not share a verified email address, which a new account needs")]
    EmailRequired,
    /// An account of this service has the provider account's address, but the provider is
    /// not trusted to prove it (or did not say the address is verified): its owner must sign
    /// in and link the provider account explicitly (409).
    #[error("an account with this email address exists; sign in to it and link this provider from there")]
    AccountExists,
    /// The provider account is linked to another user already (409).
    #[error("this provider account is linked to another user")]
    IdentityLinkedElsewhere,
    /// A provider account new here, and the provider does not create accounts (403).
    #[error("this provider account is not linked to any user, and signing up through it is off")]
    SignupDisabled,
    /// Unlinking would leave the account with no way to sign in (409).
    #[error(
        "this is the account's last way to sign in; set a password or link another provider first"
    )]
    LastSignInMethod,
    /// The user has no linked identity with that id (404).
    #[error("no linked identity with this id")]
    IdentityNotFound,
}

impl FederationError {
    /// The stable machine code of this error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownProvider(_) => "unknown_provider",
            Self::InvalidState => "invalid_state",
            Self::Denied(_) => "provider_denied",
            Self::CodeRejected(_) => "code_rejected",
            Self::InvalidIdToken(_) => "invalid_id_token",
            Self::InvalidAssertion(_) => "invalid_assertion",
            Self::EmailRequired => "email_required",
            Self::AccountExists => "account_exists",
            Self::IdentityLinkedElsewhere => "identity_linked_elsewhere",
            Self::SignupDisabled => "signup_disabled",
            Self::LastSignInMethod => "last_sign_in_method",
            Self::IdentityNotFound => "identity_not_found",
        }
    }

    /// The HTTP status this error answers with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::UnknownProvider(_) | Self::IdentityNotFound => 404,
            Self::InvalidState => 400,
            Self::Denied(_)
            | Self::CodeRejected(_)
            | Self::InvalidIdToken(_)
            | Self::InvalidAssertion(_) => 401,
            Self::EmailRequired => 422,
            Self::AccountExists | Self::IdentityLinkedElsewhere | Self::LastSignInMethod => 409,
            Self::SignupDisabled => 403,
        }
    }
}
