//! The [`EventHub`]: events wrapped with their circumstances, the sink, hooks off the request
//! path and interceptors on it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, Semaphore};

use super::{origin, AuthEvent, Event, EventSink};
use crate::client::TrustedProxies;
use crate::clock::Clock;
use crate::error::AuthError;

/// A kind of [`AuthEvent`] as a type, for [`EventHub::on`]: the markers of [`kinds`].
pub trait EventKind: Send + Sync + 'static {
    /// [`AuthEvent::kind`] of the events it stands for.
    const KIND: &'static str;
}

/// One marker type per kind of [`AuthEvent`], named like the variant
/// (`hub.on::<kinds::LoginSucceeded, _, _>(...)`).
pub mod kinds {
    use super::EventKind;

    macro_rules! kinds {
        ($($name:ident => $kind:literal),* $(,)?) => {$(
            #[doc = concat!("Events of the kind `", $kind, "`.")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl EventKind for $name {
                const KIND: &'static str = $kind;
            }
        )*};
    }

    kinds!(
        UserRegistered => "user_registered",
        LoginSucceeded => "login_succeeded",
        LoginFailed => "login_failed",
        LoginThrottled => "login_throttled",
        LoginLocked => "login_locked",
        LoginUnlocked => "login_unlocked",
        PasswordRehashed => "password_rehashed",
        TokenRefreshed => "token_refreshed",
        RefreshTokenReuseDetected => "refresh_token_reuse_detected",
        LoggedOut => "logged_out",
        AllSessionsRevoked => "all_sessions_revoked",
        SessionRevoked => "session_revoked",
        RoleGranted => "role_granted",
        RoleRevoked => "role_revoked",
        UserReactivated => "user_reactivated",
        ApiKeyCreated => "api_key_created",
        ApiKeyUsed => "api_key_used",
        ApiKeyRevoked => "api_key_revoked",
        UserDeactivated => "user_deactivated",
        PasswordResetRequested => "password_reset_requested",
        PasswordReset => "password_reset",
        EmailVerified => "email_verified",
        EmailChanged => "email_changed",
        PasswordChanged => "password_changed",
        MfaEnrolled => "mfa_enrolled",
        MfaVerified => "mfa_verified",
        MfaFailed => "mfa_failed",
        MfaDisabled => "mfa_disabled",
        BackupCodeUsed => "backup_code_used",
        BackupCodesRegenerated => "backup_codes_regenerated",
        PasskeyAdded => "passkey_added",
        PasskeyRemoved => "passkey_removed",
        IdentityLinked => "identity_linked",
        IdentityUnlinked => "identity_unlinked",
    );
}

type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type HookFn = Arc<dyn Fn(Event) -> HookFuture + Send + Sync>;

/// A registered hook: the kind it wants (all when `None`) and the handler.
#[derive(Clone)]
struct Hook {
    kind: Option<&'static str>,
    call: HookFn,
}

impl Hook {
    /// Whether the hook runs for events of `kind`.
    fn wants(&self, kind: &str) -> bool {
        self.kind.is_none_or(|wanted| wanted == kind)
    }
}

/// A registration about to be stored, as an [`Interceptor`] sees it (never the password).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RegisterAttempt<'a> {
    /// The username, as it will be stored.
    pub username: &'a str,
    /// The email address.
    pub email: &'a str,
}

/// Why an [`Interceptor`] refuses: the client gets it as the detail of a 403 `forbidden`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veto(pub String);

impl From<Veto> for AuthError {
    fn from(Veto(reason): Veto) -> Self {
        Self::Forbidden(reason)
    }
}

/// Decides on the request path whether a registration or a login may complete (an
/// allow-list of email domains, a maintenance window, ...). Each method allows by default.
///
/// A login is asked after its password was found right, so a veto tells nothing to anyone
/// without the password.
#[async_trait]
pub trait Interceptor: Send + Sync + 'static {
    /// Before a registration is stored.
    async fn before_register(&self, attempt: RegisterAttempt<'_>) -> Result<(), Veto> {
        let _ = attempt;
        Ok(())
    }

    /// Before a login with the right password starts a session.
    async fn before_login(&self, user: &crate::user::User) -> Result<(), Veto> {
        let _ = user;
        Ok(())
    }
}

/// How hooks run: queue length, time limit and concurrency.
#[derive(Debug, Clone, Copy)]
struct HookLimits {
    queue: usize,
    timeout: Duration,
    concurrency: usize,
}

const LIMITS: HookLimits = HookLimits {
    queue: 4_096,
    timeout: Duration::from_secs(10),
    concurrency: 64,
};

/// Where every event goes; see the [module documentation](super). Cheap to share; a service
/// reaches it through `AuthService::events`.
pub struct EventHub {
    sink: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    proxies: Arc<TrustedProxies>,
    hooks: Arc<RwLock<Vec<Hook>>>,
    interceptors: RwLock<Vec<Arc<dyn Interceptor>>>,
    queue: OnceLock<mpsc::Sender<Event>>,
    dropped: AtomicU64,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("sink", &self.sink)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl EventHub {
    /// A hub sending events to `sink`, timing them by `clock` and resolving client addresses
    /// through `proxies`.
    #[must_use]
    pub fn new(
        sink: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
        proxies: Arc<TrustedProxies>,
    ) -> Self {
        Self {
            sink,
            clock,
            proxies,
            hooks: Arc::default(),
            interceptors: RwLock::default(),
            queue: OnceLock::new(),
            dropped: AtomicU64::new(0),
        }
    }

    /// Runs `hook` for every event of the kind `K`, off the request path: hooks are queued
    /// (at most 4,096 events waiting; beyond that an event is dropped for the hooks and
    /// counted, [`dropped`](Self::dropped)), run at most 64 at a time, and each is stopped
    /// after 10 s. A hook that fails, panics or is slow is logged; the request that emitted
    /// the event never waits for it.
    ///
    /// ```
    /// use auth_core::events::{kinds, EventHub, MemoryEventSink};
    /// # fn hub() -> EventHub { EventHub::new(std::sync::Arc::new(MemoryEventSink::new()), std::sync::Arc::new(auth_core::SystemClock), std::sync::Arc::new(auth_core::client::TrustedProxies::none())) }
    /// let hub = hub();
    /// hub.on::<kinds::LoginSucceeded, _, _>(|event| async move {
    ///     println!("welcome back, {:?}", event.event.user_id());
    /// });
    /// ```
    pub fn on<K, F, Fut>(&self, hook: F)
    where
        K: EventKind,
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.add(Some(K::KIND), hook);
    }

    /// Runs `hook` for every event (as [`on`](Self::on) does for one kind).
    pub fn on_any<F, Fut>(&self, hook: F)
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.add(None, hook);
    }

    fn add<F, Fut>(&self, kind: Option<&'static str>, hook: F)
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let call: HookFn = Arc::new(move |event| Box::pin(hook(event)));
        self.hooks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Hook { kind, call });
    }

    /// Asks `interceptor` before every registration and login (after those added before it).
    pub fn intercept(&self, interceptor: impl Interceptor) {
        self.interceptors
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(interceptor));
    }

    /// Events the hooks never saw because their queue was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The client address of the request being served, when known (through the trusted
    /// proxies, as events record it).
    pub(crate) fn client_ip(&self) -> Option<std::net::IpAddr> {
        origin::current().and_then(|origin| origin.client_ip(&self.proxies))
    }

    /// Emits `event` with the circumstances of the current request: to the sink at once, and
    /// to the hooks through their queue.
    pub fn emit(&self, event: AuthEvent) {
        let mut event = Event::new(event, self.clock.now());
        if let Some(origin) = origin::current() {
            event.client_ip = origin.client_ip(&self.proxies).map(|ip| ip.to_string());
            event.user_agent = origin.user_agent().map(str::to_owned);
            if let Some((actor, session)) = origin.principal() {
                event.actor = Some(actor);
                event.actor_session = session;
            }
        }
        self.sink.emit(&event);
        crate::telemetry::event(&event.event);
        let wanted = self
            .hooks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|hook| hook.wants(event.event.kind()));
        if !wanted {
            return;
        }
        let queue = self.queue.get_or_init(|| self.start());
        if queue.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("event hooks are behind; an event was dropped for them");
        }
    }

    /// The queue's consumer: runs the hooks of each event as tasks of their own, bounded.
    fn start(&self) -> mpsc::Sender<Event> {
        let (sender, mut receiver) = mpsc::channel::<Event>(LIMITS.queue);
        let hooks = Arc::clone(&self.hooks);
        let permits = Arc::new(Semaphore::new(LIMITS.concurrency));
        tokio::spawn(async move {
            while let Some(event) = receiver.recv().await {
                let matching: Vec<Hook> = hooks
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .filter(|hook| hook.wants(event.event.kind()))
                    .cloned()
                    .collect();
                for hook in matching {
                    let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                        return;
                    };
                    let kind = event.event.kind();
                    let run = tokio::spawn(tokio::time::timeout(
                        LIMITS.timeout,
                        (hook.call)(event.clone()),
                    ));
                    tokio::spawn(async move {
                        match run.await {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => {
                                tracing::warn!(kind, "an event hook took too long and was stopped")
                            }
                            Err(e) => tracing::error!(kind, error = %e, "an event hook failed"),
                        }
                        drop(permit);
                    });
                }
            }
        });
        sender
    }

    /// Asks the interceptors about a registration.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] with the first veto's reason.
    pub async fn before_register(&self, attempt: RegisterAttempt<'_>) -> Result<(), AuthError> {
        for interceptor in self.interceptors() {
            interceptor.before_register(attempt).await?;
        }
        Ok(())
    }

    /// Asks the interceptors about a login whose password was right.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] with the first veto's reason.
    pub async fn before_login(&self, user: &crate::user::User) -> Result<(), AuthError> {
        for interceptor in self.interceptors() {
            interceptor.before_login(user).await?;
        }
        Ok(())
    }

    fn interceptors(&self) -> Vec<Arc<dyn Interceptor>> {
        self.interceptors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
