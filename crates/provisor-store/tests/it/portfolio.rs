//! Organisations, products, releases and who sees which in the portfolio.

use provisor_store::{
    Actor, NewAssessment, NewFile, NewProduct, NewRelease, OrganisationKind, Role, StoreError,
};

use crate::{organisation, stores, user};

pub fn tree(sha: &str) -> NewAssessment {
    NewAssessment {
        main_file: "assessment.toml".into(),
        files: vec![NewFile {
            path: "assessment.toml".into(),
            role: "assessment".into(),
            sha256: sha.into(),
            size: 10,
        }],
        edition: "en303645-v3.1.3".into(),
        kind: "self".into(),
        conformant: false,
        note: "import".into(),
    }
}

#[tokio::test]
async fn a_lab_sees_only_what_it_is_assigned() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let other = organisation(store, "Other", OrganisationKind::Manufacturer).await;
        let lab = organisation(store, "TestLab", OrganisationKind::Lab).await;
        let engineer = user(store, "engineer", false).await;
        let assessor = user(store, "assessor", false).await;
        let admin = user(store, "root", true).await;
        store
            .set_membership(&Actor::Server, &engineer.id, &acme.id, Some(Role::Editor))
            .await
            .unwrap();
        store
            .set_membership(&Actor::Server, &assessor.id, &lab.id, Some(Role::Assessor))
            .await
            .unwrap();
        let camera = store
            .create_product(
                &Actor::Server,
                &acme.id,
                &NewProduct {
                    name: "SmartCam".into(),
                    model: "C200".into(),
                },
            )
            .await
            .unwrap();
        let hub = store
            .create_product(
                &Actor::Server,
                &other.id,
                &NewProduct {
                    name: "Hub".into(),
                    model: "H1".into(),
                },
            )
            .await
            .unwrap();
        let duplicate = store
            .create_product(
                &Actor::Server,
                &acme.id,
                &NewProduct {
                    name: "SmartCam".into(),
                    model: "C300".into(),
                },
            )
            .await;
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{}",
            test.engine
        );
        let on_lab = store
            .create_product(
                &Actor::Server,
                &lab.id,
                &NewProduct {
                    name: "X".into(),
                    model: "X".into(),
                },
            )
            .await;
        assert!(matches!(on_lab, Err(StoreError::Invalid(_))));
        let v1 = store
            .create_release(
                &Actor::Server,
                &camera.id,
                &NewRelease {
                    version: "1.0".into(),
                    support_period_end: Some("2030-12-31".into()),
                },
            )
            .await
            .unwrap();
        let v2 = store
            .create_release(
                &Actor::Server,
                &camera.id,
                &NewRelease {
                    version: "2.0".into(),
                    support_period_end: None,
                },
            )
            .await
            .unwrap();
        store
            .create_release(
                &Actor::Server,
                &hub.id,
                &NewRelease {
                    version: "9".into(),
                    support_period_end: None,
                },
            )
            .await
            .unwrap();
        let bad_date = store
            .create_release(
                &Actor::Server,
                &camera.id,
                &NewRelease {
                    version: "3".into(),
                    support_period_end: Some("31/12/2030".into()),
                },
            )
            .await;
        assert!(
            matches!(bad_date, Err(StoreError::Invalid(message)) if message.contains("YYYY-MM-DD"))
        );

        let sha = "a".repeat(64);
        let own = store
            .create_assessment(&Actor::Server, &v1.id, &tree(&sha))
            .await
            .unwrap();
        let assigned = store
            .create_assessment(&Actor::Server, &v2.id, &tree(&sha))
            .await
            .unwrap();
        store
            .assign_lab(&Actor::Server, &assigned.id, Some(&lab.id))
            .await
            .unwrap();
        // Newer than the lab's, but the lab must not see it.
        let private = store
            .create_assessment(&Actor::Server, &v2.id, &tree(&sha))
            .await
            .unwrap();

        let rows = store
            .portfolio(&store.user(&engineer.id).await.unwrap())
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "{}: {rows:?}", test.engine);
        assert_eq!(rows[0].assessment_id.as_deref(), Some(own.id.as_str()));
        assert_eq!(rows[1].assessment_id.as_deref(), Some(private.id.as_str()));
        let rows = store
            .portfolio(&store.user(&assessor.id).await.unwrap())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{}: {rows:?}", test.engine);
        assert_eq!(rows[0].assessment_id.as_deref(), Some(assigned.id.as_str()));
        let rows = store.portfolio(&admin).await.unwrap();
        assert_eq!(rows.len(), 3);
    }
}

/// SQLite answered "database is locked" to a transaction that read before it wrote
/// while another connection committed; write transactions now take the lock first.
#[tokio::test]
async fn concurrent_writers_wait_instead_of_failing_with_database_is_locked() {
    for test in stores().await {
        let store = test.store.clone();
        let acme = organisation(&store, "Acme", OrganisationKind::Manufacturer).await;
        let users: Vec<_> = futures_join(
            (0..24)
                .map(|index| {
                    let store = store.clone();
                    let acme = acme.id.clone();
                    tokio::spawn(async move {
                        let user = store
                            .create_user(
                                &Actor::Server,
                                &provisor_store::NewUser {
                                    login: format!("user{index}"),
                                    display_name: format!("User {index}"),
                                    password: "correct horse battery".into(),
                                    server_admin: false,
                                },
                            )
                            .await?;
                        store
                            .set_membership(&Actor::Server, &user.id, &acme, Some(Role::Viewer))
                            .await?;
                        Ok::<_, StoreError>(user)
                    })
                })
                .collect(),
        )
        .await;
        assert_eq!(users.len(), 24, "{}", test.engine);
        let key = provisor_store::ServerKey::load_or_create(&test.dir.path().join("k")).unwrap();
        assert!(
            store.verify_audit(&key).await.unwrap().holds(),
            "the chain stays one chain under concurrent writers"
        );
    }
}

async fn futures_join(
    handles: Vec<tokio::task::JoinHandle<Result<provisor_store::User, StoreError>>>,
) -> Vec<provisor_store::User> {
    let mut users = Vec::new();
    for handle in handles {
        users.push(handle.await.unwrap().unwrap());
    }
    users
}
