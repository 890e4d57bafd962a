//! Replays the committed corpus of the `proxy_requests` fuzz target on the
//! stable toolchain, with the target's own check.

#[path = "../../../fuzz/checks/proxy_requests.rs"]
mod proxy_requests;

#[test]
fn proxy_requests_corpus() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/proxy_requests"
    );
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty(), "empty corpus {dir}");
    for path in files {
        proxy_requests::check_input(&std::fs::read(&path).unwrap());
    }
}
