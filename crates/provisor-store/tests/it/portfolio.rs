//! Organisations, products, releases and who sees which in the portfolio.

use provisor_store::{
    Actor, NewAssessment, NewFile, NewProduct, NewRelease, OrganisationKind, PortfolioOrder,
    PortfolioQuery, Role, StoreError,
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
        counts: Some(Default::default()),
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

        let all = PortfolioQuery::default();
        let rows = store
            .portfolio(&store.user(&engineer.id).await.unwrap(), &all)
            .await
            .unwrap()
            .rows;
        assert_eq!(rows.len(), 2, "{}: {rows:?}", test.engine);
        assert_eq!(rows[0].assessment_id.as_deref(), Some(own.id.as_str()));
        assert_eq!(rows[1].assessment_id.as_deref(), Some(private.id.as_str()));
        let rows = store
            .portfolio(&store.user(&assessor.id).await.unwrap(), &all)
            .await
            .unwrap()
            .rows;
        assert_eq!(rows.len(), 1, "{}: {rows:?}", test.engine);
        assert_eq!(rows[0].assessment_id.as_deref(), Some(assigned.id.as_str()));
        let rows = store.portfolio(&admin, &all).await.unwrap().rows;
        assert_eq!(rows.len(), 3);
    }
}

/// Pages follow one another without a gap or a repeat, also across products of the
/// same name and releases made in the same millisecond; filters narrow the total.
#[tokio::test]
async fn the_portfolio_is_read_a_page_at_a_time() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let other = organisation(store, "Other", OrganisationKind::Manufacturer).await;
        let admin = user(store, "root", true).await;
        let engineer = user(store, "engineer", false).await;
        store
            .set_membership(&Actor::Server, &engineer.id, &acme.id, Some(Role::Viewer))
            .await
            .unwrap();
        let mut expected = Vec::new();
        for (organisation, name, model) in [
            (&acme, "Camera", "C1"),
            (&other, "Camera", "C9"),
            (&acme, "Doorbell 50%_off", "D1"),
            (&acme, "hub", "H1"),
        ] {
            let product = store
                .create_product(
                    &Actor::Server,
                    &organisation.id,
                    &NewProduct {
                        name: name.into(),
                        model: model.into(),
                    },
                )
                .await
                .unwrap();
            for version in ["1.0", "1.1", "2.0"] {
                let release = store
                    .create_release(
                        &Actor::Server,
                        &product.id,
                        &NewRelease {
                            version: version.into(),
                            support_period_end: None,
                        },
                    )
                    .await
                    .unwrap();
                expected.push(release.id);
            }
        }
        let read_all = |user: provisor_store::User, query: PortfolioQuery| async move {
            let mut seen = Vec::new();
            let mut query = query;
            let mut pages = 0;
            loop {
                let page = store.portfolio(&user, &query).await.unwrap();
                pages += 1;
                assert!(page.rows.len() as i64 <= query.limit);
                seen.extend(page.rows.iter().map(|row| row.release_id.clone()));
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => return (seen, page.total, pages),
                }
                assert!(pages < 100, "the pages do not end");
            }
        };
        let admin = store.user(&admin.id).await.unwrap();
        let (whole, total, pages) = read_all(admin.clone(), PortfolioQuery::default()).await;
        assert_eq!(total, 12, "{}", test.engine);
        assert_eq!(pages, 1);
        let mut sorted = whole.clone();
        sorted.sort();
        let mut wanted = expected.clone();
        wanted.sort();
        assert_eq!(sorted, wanted, "{}", test.engine);
        for limit in [1, 2, 5, 11, 12] {
            let (paged, total, pages) = read_all(
                admin.clone(),
                PortfolioQuery {
                    limit,
                    ..PortfolioQuery::default()
                },
            )
            .await;
            assert_eq!(paged, whole, "{} limit {limit}", test.engine);
            assert_eq!(total, 12);
            assert_eq!(pages as i64, (12 + limit - 1) / limit);
        }

        let (found, total, _) = read_all(
            admin.clone(),
            PortfolioQuery {
                search: Some("50%_".into()),
                limit: 2,
                ..PortfolioQuery::default()
            },
        )
        .await;
        assert_eq!((found.len(), total), (3, 3), "{}", test.engine);
        // `%` and `_` are the text itself, not wildcards; case does not matter.
        let (found, _, _) = read_all(
            admin.clone(),
            PortfolioQuery {
                search: Some("0%x".into()),
                ..PortfolioQuery::default()
            },
        )
        .await;
        assert!(found.is_empty(), "{}", test.engine);
        let (found, _, _) = read_all(
            admin.clone(),
            PortfolioQuery {
                search: Some("HUB".into()),
                ..PortfolioQuery::default()
            },
        )
        .await;
        assert_eq!(found.len(), 3, "{}", test.engine);
        let (found, total, _) = read_all(
            admin.clone(),
            PortfolioQuery {
                organisation: Some(other.id.clone()),
                ..PortfolioQuery::default()
            },
        )
        .await;
        assert_eq!((found.len(), total), (3, 3), "{}", test.engine);
        let engineer = store.user(&engineer.id).await.unwrap();
        let (found, total, _) = read_all(
            engineer.clone(),
            PortfolioQuery {
                limit: 4,
                ..PortfolioQuery::default()
            },
        )
        .await;
        assert_eq!((found.len(), total), (9, 9), "{}", test.engine);
        // Another manufacturer's releases stay hidden even when asked for by name.
        let (found, total, _) = read_all(
            engineer,
            PortfolioQuery {
                organisation: Some(other.id.clone()),
                ..PortfolioQuery::default()
            },
        )
        .await;
        assert_eq!((found.len(), total), (0, 0), "{}", test.engine);

        for bad in ["zz", "7b7d", "", "5b2261225d"] {
            let answer = store
                .portfolio(
                    &admin,
                    &PortfolioQuery {
                        after: Some(bad.into()),
                        ..PortfolioQuery::default()
                    },
                )
                .await;
            assert!(
                matches!(&answer, Err(StoreError::Invalid(message)) if message.contains("cursor")),
                "{bad}: {answer:?}"
            );
        }
    }
}

/// "Mandatory failures first" orders by the newest assessment's unmet mandatory
/// provisions, the releases without counts last, a page at a time; "newest release
/// only" keeps each product's newest release the user may see; the counts written with
/// a revision come back with the row.
#[tokio::test]
async fn the_portfolio_puts_mandatory_failures_first() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let lab = organisation(store, "TestLab", OrganisationKind::Lab).await;
        let assessor = user(store, "assessor", false).await;
        store
            .set_membership(&Actor::Server, &assessor.id, &lab.id, Some(Role::Assessor))
            .await
            .unwrap();
        let admin = store
            .user(&user(store, "root", true).await.id)
            .await
            .unwrap();
        let sha = "b".repeat(64);
        // Product name, then per release: the unmet mandatory provisions of its
        // assessment, or none.
        let plan: [(&str, [Option<i64>; 2]); 5] = [
            ("Alarm", [Some(9), Some(0)]),
            ("Bulb", [None, Some(4)]),
            ("Camera", [Some(1), None]),
            ("Doorbell", [Some(4), Some(4)]),
            ("Eye", [Some(2), Some(7)]),
        ];
        let mut old_camera = String::new();
        for (name, releases) in plan {
            let product = store
                .create_product(
                    &Actor::Server,
                    &acme.id,
                    &NewProduct {
                        name: name.into(),
                        model: "M".into(),
                    },
                )
                .await
                .unwrap();
            for (at, unmet) in releases.iter().enumerate() {
                let release = store
                    .create_release(
                        &Actor::Server,
                        &product.id,
                        &NewRelease {
                            version: format!("{}.0", at + 1),
                            support_period_end: None,
                        },
                    )
                    .await
                    .unwrap();
                let Some(unmet) = unmet else { continue };
                let mut new = tree(&sha);
                new.counts = Some(provisor_store::Counts {
                    mandatory_unmet: *unmet,
                    mandatory_pass: 30 - unmet,
                    vulnerabilities: 3,
                    ..Default::default()
                });
                let assessment = store
                    .create_assessment(&Actor::Server, &release.id, &new)
                    .await
                    .unwrap();
                if name == "Camera" && at == 0 {
                    old_camera = release.id.clone();
                    store
                        .assign_lab(&Actor::Server, &assessment.id, Some(&lab.id))
                        .await
                        .unwrap();
                }
            }
        }
        let read = |user: provisor_store::User, query: PortfolioQuery| async move {
            let mut seen = Vec::new();
            let mut query = query;
            loop {
                let page = store.portfolio(&user, &query).await.unwrap();
                seen.extend(page.rows.iter().map(|row| {
                    (
                        format!("{} {}", row.product, row.version),
                        row.counts.map(|counts| counts.mandatory_unmet),
                    )
                }));
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => return (seen, page.total),
                }
                assert!(seen.len() < 100, "the pages do not end");
            }
        };
        let attention = |limit: i64, latest_only: bool| PortfolioQuery {
            limit,
            latest_only,
            order: PortfolioOrder::Attention,
            ..PortfolioQuery::default()
        };
        let (whole, total) = read(admin.clone(), attention(100, false)).await;
        assert_eq!(total, 10, "{}", test.engine);
        let names: Vec<&str> = whole.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Alarm 1.0",
                "Eye 2.0",
                "Bulb 2.0",
                "Doorbell 1.0",
                "Doorbell 2.0",
                "Eye 1.0",
                "Camera 1.0",
                "Alarm 2.0",
                "Bulb 1.0",
                "Camera 2.0"
            ],
            "{}",
            test.engine
        );
        assert_eq!(whole[0].1, Some(9));
        assert_eq!(whole[9].1, None);
        for limit in [1, 2, 3, 7] {
            assert_eq!(
                read(admin.clone(), attention(limit, false)).await.0,
                whole,
                "{} limit {limit}",
                test.engine
            );
        }
        let (newest, total) = read(admin.clone(), attention(2, true)).await;
        assert_eq!(total, 5, "{}", test.engine);
        let names: Vec<&str> = newest.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Eye 2.0",
                "Bulb 2.0",
                "Doorbell 2.0",
                "Alarm 2.0",
                "Camera 2.0"
            ],
            "{}",
            test.engine
        );
        // A member of the manufacturer sees the same, a page at a time.
        let engineer = user(store, "engineer", false).await;
        store
            .set_membership(&Actor::Server, &engineer.id, &acme.id, Some(Role::Viewer))
            .await
            .unwrap();
        let engineer = store.user(&engineer.id).await.unwrap();
        assert_eq!(
            read(engineer.clone(), attention(1, true)).await,
            (newest.clone(), 5),
            "{}",
            test.engine
        );
        // A new release without an assessment sends its product to the end.
        let eye = store
            .portfolio(&admin, &attention(1, true))
            .await
            .unwrap()
            .rows
            .remove(0);
        store
            .create_release(
                &Actor::Server,
                &eye.product_id,
                &NewRelease {
                    version: "3.0".into(),
                    support_period_end: None,
                },
            )
            .await
            .unwrap();
        let (moved, _) = read(engineer, attention(2, true)).await;
        let names: Vec<&str> = moved.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Bulb 2.0",
                "Doorbell 2.0",
                "Alarm 2.0",
                "Camera 2.0",
                "Eye 3.0"
            ],
            "{}",
            test.engine
        );
        // The lab sees the older camera release only, so that is its newest.
        let lab_member = store.user(&assessor.id).await.unwrap();
        let page = store
            .portfolio(&lab_member, &attention(10, true))
            .await
            .unwrap();
        assert_eq!(page.rows.len(), 1, "{}", test.engine);
        assert_eq!(page.rows[0].release_id, old_camera);
        let counts = page.rows[0].counts.expect("the counts are stored");
        assert_eq!(
            (
                counts.mandatory_unmet,
                counts.mandatory_pass,
                counts.vulnerabilities
            ),
            (1, 29, 3)
        );
        // A cursor of one order is refused by the other.
        let by_name = store
            .portfolio(
                &admin,
                &PortfolioQuery {
                    limit: 1,
                    ..PortfolioQuery::default()
                },
            )
            .await
            .unwrap();
        let answer = store
            .portfolio(
                &admin,
                &PortfolioQuery {
                    after: by_name.next,
                    ..attention(1, false)
                },
            )
            .await;
        assert!(
            matches!(&answer, Err(StoreError::Invalid(message)) if message.contains("cursor")),
            "{answer:?}"
        );
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
