//! Port preview: a learner opens a port of their own sandbox in the browser; nobody else can.

use crate::support::{TestApp, eventually};

#[tokio::test]
async fn the_owner_previews_nginx_in_their_sandbox_and_a_stranger_cannot() {
    let app = TestApp::spawn().await;
    let mut owner = app.client();
    let id = owner.create_session().await;
    eventually("nginx answers through the preview", || async {
        let response = owner.get(&format!("/preview/{id}/80/")).await;
        response.status() == 200
            && response
                .text()
                .await
                .unwrap_or_default()
                .contains("Welcome to nginx")
    })
    .await;
    let missing = owner.get(&format!("/preview/{id}/80/no-such-page")).await;
    assert_eq!(missing.status(), 404, "the learner's own 404 comes through");

    let silent = owner.get(&format!("/preview/{id}/8999/")).await;
    assert_eq!(silent.status(), 502);
    assert!(
        silent
            .text()
            .await
            .unwrap()
            .contains("Nothing in your sandbox answered on port 8999")
    );

    let mut stranger = app.client();
    stranger.create_session().await;
    let refused = stranger.get(&format!("/preview/{id}/80/")).await;
    assert_eq!(refused.status(), 404);
    assert!(!refused.text().await.unwrap().contains("nginx"));
    app.cleanup().await;
}
