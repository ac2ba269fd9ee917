#![allow(clippy::print_stderr)]
use oxiborg_patterns::*;
fn run(label: &str, f: &dyn Fn(usize) -> String) {
    let mut m = PatternMatcher::new(Some(true));
    let mut pats = Vec::new();
    for i in 0..30 {
        pats.push((
            Pattern::parse(&f(i), PatternStyle::Fnmatch).unwrap(),
            Action::Exclude,
        ));
    }
    m.add_inclexcl(pats);
    let paths: Vec<Vec<u8>> = (0..20_000)
        .map(|i| {
            format!(
                "/home/user{}/some/deeper/directory/structure/file{}.txt",
                i % 100,
                i
            )
            .into_bytes()
        })
        .collect();
    let t = std::time::Instant::now();
    let mut n = 0;
    for p in &paths {
        if m.matches(p) {
            n += 1;
        }
    }
    eprintln!(
        "{label}: {} matched, {:?} per pattern-match",
        n,
        t.elapsed() / (paths.len() as u32 * 30)
    );
}
#[test]
fn perf() {
    run("sh", &|i| format!("sh:home/*/dir{i}/**/*.tmp"));
    run("fm", &|i| format!("fm:*/cache{i}/*"));
    run("re", &|i| format!("re:\\.ext{i}$"));
    run("re2", &|i| format!("re:^home/user{i}/x"));
    run("pp", &|i| format!("pp:home/user{i}/x"));
}
