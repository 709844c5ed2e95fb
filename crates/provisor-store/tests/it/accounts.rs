//! Users, passwords, sessions, tokens and the login throttle.

use provisor_store::{Actor, NewUser, OrganisationKind, Role, Scope, StoreError, now_ms};

use crate::{organisation, stores, user};

#[tokio::test]
async fn passwords_are_argon2id_and_checked() {
    for test in stores().await {
        let store = &test.store;
        let alice = user(store, "Alice@Example.com", true).await;
        assert_eq!(alice.login, "alice@example.com", "{}", test.engine);
        let found = store
            .user_by_login("ALICE@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(found.password_matches("correct horse battery"));
        assert!(!found.password_matches("correct horse batterY"));
        let short = store
            .create_user(
                &Actor::Server,
                &NewUser {
                    login: "bob".into(),
                    display_name: "Bob".into(),
                    password: "short".into(),
                    server_admin: false,
                },
            )
            .await;
        assert!(
            matches!(short, Err(StoreError::Invalid(message)) if message.contains("at least 12"))
        );
        let again = store
            .create_user(
                &Actor::Server,
                &NewUser {
                    login: "alice@example.com".into(),
                    display_name: "Alice".into(),
                    password: "another long password".into(),
                    server_admin: false,
                },
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Conflict(_))),
            "{}: {again:?}",
            test.engine
        );
        assert!(provisor_store::hash_password("x").starts_with("$argon2id$"));
    }
}

#[tokio::test]
async fn sessions_end_with_a_password_change() {
    for test in stores().await {
        let store = &test.store;
        let alice = user(store, "alice", false).await;
        let (secret, session) = store
            .create_session(&alice.id, "127.0.0.1", false)
            .await
            .unwrap();
        assert_eq!(store.session(&secret).await.unwrap(), Some(session.clone()));
        assert_eq!(store.session("not-a-session").await.unwrap(), None);
        store.pass_second_factor(&secret).await.unwrap();
        assert!(store.session(&secret).await.unwrap().unwrap().second_factor);
        store
            .set_password(
                &Actor::User(alice.id.clone()),
                &alice.id,
                "a new long password",
            )
            .await
            .unwrap();
        assert_eq!(
            store.session(&secret).await.unwrap(),
            None,
            "{}",
            test.engine
        );
    }
}

#[tokio::test]
async fn tokens_are_scoped_expire_and_revoke() {
    for test in stores().await {
        let store = &test.store;
        let alice = user(store, "alice", false).await;
        let actor = Actor::User(alice.id.clone());
        let made = store
            .create_token(
                &actor,
                &alice.id,
                "ci",
                &[Scope::Write, Scope::Read, Scope::Read],
                now_ms() + 60_000,
            )
            .await
            .unwrap();
        assert!(made.secret.starts_with("pvt_"));
        let found = store.token(&made.secret).await.unwrap().unwrap();
        assert_eq!(found.scopes, vec![Scope::Read, Scope::Write]);
        assert!(store.token("pvt_0000").await.unwrap().is_none());
        store
            .revoke_token(&actor, &alice.id, &made.token.id)
            .await
            .unwrap();
        assert!(
            store.token(&made.secret).await.unwrap().is_none(),
            "{}",
            test.engine
        );
        let past = store
            .create_token(&actor, &alice.id, "old", &[Scope::Read], now_ms() - 1)
            .await;
        assert!(matches!(past, Err(StoreError::Invalid(_))));
        let none = store
            .create_token(&actor, &alice.id, "none", &[], now_ms() + 1000)
            .await;
        assert!(matches!(none, Err(StoreError::Invalid(_))));
    }
}

#[tokio::test]
async fn the_throttle_delays_after_three_failures() {
    for test in stores().await {
        let store = &test.store;
        let subjects = vec!["account:alice".to_owned(), "client:127.0.0.9".to_owned()];
        for _ in 0..3 {
            assert_eq!(store.login_failed(&subjects).await.unwrap(), 0);
        }
        assert!(store.login_blocked(&subjects).await.unwrap().is_none());
        assert_eq!(store.login_failed(&subjects).await.unwrap(), 1000);
        assert_eq!(store.login_failed(&subjects).await.unwrap(), 2000);
        let block = store.login_blocked(&subjects).await.unwrap().unwrap();
        assert!(
            block.retry_after_ms > 1000 && block.retry_after_ms <= 2000,
            "{}",
            test.engine
        );
        store.login_succeeded("account:alice").await.unwrap();
        // The client's count stays: a success on one account does not clear guessing
        // at others from the same address.
        assert!(
            store
                .login_blocked(&["account:alice".to_owned()])
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .login_blocked(&["client:127.0.0.9".to_owned()])
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn memberships_give_roles() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let alice = user(store, "alice", false).await;
        store
            .set_membership(&Actor::Server, &alice.id, &acme.id, Some(Role::Editor))
            .await
            .unwrap();
        let alice = store.user(&alice.id).await.unwrap();
        assert_eq!(alice.role_in(&acme.id), Some(Role::Editor));
        let missing = store
            .set_membership(&Actor::Server, "usr_missing", &acme.id, Some(Role::Viewer))
            .await;
        assert!(missing.is_err(), "{}", test.engine);
        store
            .set_membership(&Actor::Server, &alice.id, &acme.id, None)
            .await
            .unwrap();
        assert_eq!(store.user(&alice.id).await.unwrap().role_in(&acme.id), None);
    }
}

#[tokio::test]
async fn an_expired_or_idle_session_is_gone() {
    for test in stores().await {
        let store = &test.store;
        let alice = user(store, "alice", false).await;
        let (expired, _) = store
            .create_session(&alice.id, "127.0.0.1", true)
            .await
            .unwrap();
        let (idle, _) = store
            .create_session(&alice.id, "127.0.0.1", true)
            .await
            .unwrap();
        let (live, _) = store
            .create_session(&alice.id, "127.0.0.1", true)
            .await
            .unwrap();
        crate::tamper(
            &test,
            &format!(
                "UPDATE sessions SET expires_at = 1 WHERE id_hash = '{}'",
                provisor_store::sha256_hex(expired.as_bytes())
            ),
        )
        .await;
        crate::tamper(
            &test,
            &format!(
                "UPDATE sessions SET last_seen_at = 1 WHERE id_hash = '{}'",
                provisor_store::sha256_hex(idle.as_bytes())
            ),
        )
        .await;
        assert_eq!(
            store.session(&expired).await.unwrap(),
            None,
            "{}",
            test.engine
        );
        assert_eq!(store.session(&idle).await.unwrap(), None);
        assert!(store.session(&live).await.unwrap().is_some());
    }
}
