//! The suite of [`LockoutStore`].

use std::sync::Arc;

use crate::lockout::{Failures, LockoutStore, LoginRecord};

const HOUR: i64 = 3_600;

fn failures(count: u32, last: i64) -> Failures {
    Failures { count, last }
}

/// [`LockoutStore`]: failures counted per login name and per client, forgotten after a quiet
/// spell, a success ending the client's failures and remembered, the unlock, and concurrent
/// failures all counted.
pub async fn lockout(store: Arc<dyn LockoutStore>) {
    let s = store.as_ref();
    assert_eq!(
        s.record("ada", "10.0.0.1", 1_000, HOUR).await.unwrap(),
        LoginRecord::default(),
        "nothing counted yet"
    );
    let first = s
        .record_failure("ada", "10.0.0.1", 1_000, HOUR)
        .await
        .unwrap();
    assert_eq!(first.account, failures(1, 1_000));
    assert_eq!(first.client, failures(1, 1_000));
    assert_eq!(first.client_success, None);
    let second = s
        .record_failure("ada", "10.0.0.1", 1_010, HOUR)
        .await
        .unwrap();
    assert_eq!(
        (second.account, second.client),
        (failures(2, 1_010), failures(2, 1_010))
    );
    // Another client shares the login name's count, not the first client's.
    let other = s
        .record_failure("ada", "10.0.0.2", 1_020, HOUR)
        .await
        .unwrap();
    assert_eq!(
        (other.account, other.client),
        (failures(3, 1_020), failures(1, 1_020))
    );
    assert_eq!(
        s.record("ada", "10.0.0.1", 1_030, HOUR).await.unwrap(),
        LoginRecord {
            account: failures(3, 1_020),
            client: failures(2, 1_010),
            client_success: None,
        }
    );
    // Login names are separate; one that is a prefix of another is not the other.
    assert_eq!(
        s.record_failure("ad", "10.0.0.1", 1_030, HOUR)
            .await
            .unwrap()
            .account,
        failures(1, 1_030)
    );
    assert_eq!(
        s.record("ada", "10.0.0.3", 1_030, HOUR)
            .await
            .unwrap()
            .client,
        Failures::default()
    );

    // A success ends the client's failures and is remembered; the login name keeps its count.
    s.record_success("ada", "10.0.0.1", 1_040, 30 * 24 * HOUR)
        .await
        .unwrap();
    let after = s.record("ada", "10.0.0.1", 1_050, HOUR).await.unwrap();
    assert_eq!(after.client, Failures::default());
    assert_eq!(after.client_success, Some(1_040));
    assert_eq!(after.account, failures(3, 1_020));
    let again = s
        .record_failure("ada", "10.0.0.1", 1_060, HOUR)
        .await
        .unwrap();
    assert_eq!(
        (again.account, again.client),
        (failures(4, 1_060), failures(1, 1_060))
    );
    assert_eq!(
        again.client_success,
        Some(1_040),
        "a failure keeps the client's success"
    );

    // After a quiet spell longer than forget_after, counts read as none and start over.
    let quiet = 1_060 + HOUR + 1;
    assert_eq!(
        s.record("ada", "10.0.0.2", quiet, HOUR)
            .await
            .unwrap()
            .account,
        Failures::default()
    );
    let fresh = s
        .record_failure("ada", "10.0.0.2", quiet, HOUR)
        .await
        .unwrap();
    assert_eq!(
        (fresh.account, fresh.client),
        (failures(1, quiet), failures(1, quiet))
    );

    // The unlock forgets every failure of the login name, from every client, and keeps
    // successes; it says whether there was anything to forget.
    assert!(s.forgive("ada").await.unwrap());
    for client in ["10.0.0.1", "10.0.0.2"] {
        let record = s.record("ada", client, quiet, HOUR).await.unwrap();
        assert_eq!(
            (record.account, record.client),
            (Failures::default(), Failures::default())
        );
    }
    assert_eq!(
        s.record("ada", "10.0.0.1", quiet, HOUR)
            .await
            .unwrap()
            .client_success,
        Some(1_040)
    );
    assert!(!s.forgive("ada").await.unwrap());
    assert!(!s.forgive("nobody").await.unwrap());
    assert_eq!(
        s.record("ad", "10.0.0.1", 1_040, HOUR)
            .await
            .unwrap()
            .account,
        failures(1, 1_030),
        "the unlock of `ada` leaves `ad` alone"
    );

    // Concurrent failures from two clients all count, for the login name and per client.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&store);
            let client = if i % 2 == 0 { "10.1.0.1" } else { "10.1.0.2" };
            tokio::spawn(async move {
                store
                    .record_failure("eve", client, 5_000, HOUR)
                    .await
                    .unwrap()
                    .account
                    .count
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=16).collect::<Vec<u32>>(),
        "each failure sees its own count"
    );
    for client in ["10.1.0.1", "10.1.0.2"] {
        assert_eq!(
            s.record("eve", client, 5_000, HOUR)
                .await
                .unwrap()
                .client
                .count,
            8
        );
    }
}
