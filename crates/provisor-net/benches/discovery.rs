//! Discovery of all 65535 TCP ports of a loopback address (target: at most 1 s). Traffic
//! goes only to 127.0.0.9; whatever listens on every address of this machine shows
//! there as open.

use criterion::{Criterion, criterion_group, criterion_main};
use provisor_net::{Discovery, PortSpec, Target};

fn discovery(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let target = runtime
        .block_on(Target::resolve("127.0.0.9"))
        .expect("a loopback address");
    let ports = PortSpec::all();
    let mut group = criterion.benchmark_group("discovery");
    group.sample_size(10);
    group.bench_function("all 65535 TCP ports of 127.0.0.9", |bench| {
        bench.iter(|| {
            runtime.block_on(provisor_net::discovery::tcp_scan(
                &target,
                ports.ports(),
                Discovery::default(),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, discovery);
criterion_main!(benches);
