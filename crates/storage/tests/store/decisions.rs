//! The decision log: order, filters, pages, counts.

use macro_rules_attribute::apply;
use pointerprint_storage::{DecisionCount, DecisionQuery};

use crate::support::*;

#[apply(both_backends!)]
async fn decisions_newest_first_with_limit(db: TestDb) {
    let store = db.store().await;
    let mut ids = Vec::new();
    for (user, t) in [("a", 10), ("b", 30), ("a", 20), ("a", 40), ("b", 40)] {
        ids.push(
            store
                .insert_decision(&decision(user, Some("s"), t))
                .await
                .unwrap(),
        );
    }
    let all = store.decisions(&query(None, 100)).await.unwrap();
    let times: Vec<(i64, &str)> = all
        .iter()
        .map(|d| (d.created_ms, d.user_id.as_str()))
        .collect();
    // Same time: the later insert first.
    assert_eq!(
        times,
        [(40, "b"), (40, "a"), (30, "b"), (20, "a"), (10, "a")]
    );
    assert_eq!(store.decisions(&query(None, 2)).await.unwrap().len(), 2);
    assert!(store.decisions(&query(None, 0)).await.unwrap().is_empty());

    let a = store.decisions(&query(Some("a"), 2)).await.unwrap();
    assert_eq!(a.iter().map(|d| d.created_ms).collect::<Vec<_>>(), [40, 20]);
    let d = &a[0];
    assert_eq!(d.id, ids[3]);
    assert_eq!(d.session_id.as_deref(), Some("s"));
    assert_eq!(d.decision, "accept");
    assert_eq!((d.score, d.threshold, d.actions), (0.75, 0.5, 12));
    assert_eq!(d.reasons_json, r#"["typical"]"#);

    store
        .insert_decision(&decision("c", None, 1))
        .await
        .unwrap();
    let c = store.decisions(&query(Some("c"), 5)).await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].session_id, None);
}

#[apply(both_backends!)]
async fn decisions_filter_by_user_kind_and_time_with_pages_and_counts(db: TestDb) {
    let store = db.store().await;
    for (i, (user, kind)) in [
        ("a", "accept"),
        ("a", "reject"),
        ("b", "accept"),
        ("a", "accept"),
        ("b", "insufficient_data"),
        ("a", "reject"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = decision(user, None, 3_600_000 * i as i64 + 5);
        d.decision = kind;
        store.insert_decision(&d).await.unwrap();
    }
    let q = DecisionQuery {
        user_id: Some("a"),
        decision: Some("reject"),
        ..DecisionQuery::default()
    };
    let rejects = store.decisions(&q).await.unwrap();
    assert_eq!(
        rejects.iter().map(|d| d.created_ms).collect::<Vec<_>>(),
        [18_000_005, 3_600_005]
    );
    assert_eq!(store.count_decisions(&q).await.unwrap(), 2);

    // Time range: from inclusive, to exclusive.
    let q = DecisionQuery {
        from_ms: Some(3_600_005),
        to_ms: Some(14_400_005),
        ..DecisionQuery::default()
    };
    let hours: Vec<i64> = store
        .decisions(&q)
        .await
        .unwrap()
        .iter()
        .map(|d| d.created_ms / 3_600_000)
        .collect();
    assert_eq!(hours, [3, 2, 1]);
    assert_eq!(store.count_decisions(&q).await.unwrap(), 3);

    // Pages of two cover everything once; the count ignores the page.
    let mut seen = Vec::new();
    for page in 0..4 {
        let q = DecisionQuery {
            offset: page * 2,
            limit: 2,
            ..DecisionQuery::default()
        };
        seen.extend(store.decisions(&q).await.unwrap().into_iter().map(|d| d.id));
        assert_eq!(store.count_decisions(&q).await.unwrap(), 6);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 6);

    // Two-hour buckets from the second hour on.
    let counts = store.decision_counts(3_600_000, 7_200_000).await.unwrap();
    let expect = [
        (0, "reject", 1),
        (7_200_000, "accept", 2),
        (14_400_000, "insufficient_data", 1),
        (14_400_000, "reject", 1),
    ];
    assert_eq!(
        counts,
        expect
            .iter()
            .map(|&(bucket_ms, decision, count)| DecisionCount {
                bucket_ms,
                decision: decision.to_string(),
                count,
            })
            .collect::<Vec<_>>()
    );
}
