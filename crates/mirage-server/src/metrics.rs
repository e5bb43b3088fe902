//! `GET /metrics`: the daemon's counters in the Prometheus / OpenMetrics
//! text format (prometheus-client): requests by route, method and status,
//! a request latency histogram by route, lines run, jobs ended by status,
//! and Recall's cache hits and misses per workspace and mount.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern (`/v1/workspaces/{workspace_id}/shell`), never the
    /// concrete path.
    pub route: String,
    /// The HTTP method.
    pub method: String,
    /// The status code.
    pub status: u16,
}

/// Labels of a route's latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route pattern.
    pub route: String,
}

/// Labels of an ended job.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// `done`, `failed` or `canceled`.
    pub status: String,
}

/// Labels of a cached mount's counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// The workspace id.
    pub workspace: String,
    /// The mount prefix.
    pub mount: String,
}

type HistogramMaker = fn() -> Histogram;

fn latency_histogram() -> Histogram {
    // 50 µs to ~1.6 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// The daemon's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests answered, by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency in seconds, by route.
    pub latency: Family<RouteLabels, Histogram, HistogramMaker>,
    /// Lines run.
    pub lines: Counter,
    /// Jobs ended, by final status.
    pub jobs: Family<JobLabels, Counter>,
    /// Cache hits per workspace and mount (filled at each scrape).
    pub cache_hits: Family<CacheLabels, Gauge<u64, AtomicU64>>,
    /// Cache misses per workspace and mount (filled at each scrape).
    pub cache_misses: Family<CacheLabels, Gauge<u64, AtomicU64>>,
    /// Workspaces held (set at each scrape).
    pub workspaces: Gauge,
    /// Jobs not ended yet, by status `pending`, `running` or `stopping`
    /// (set at each scrape).
    pub jobs_active: Family<JobLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics, registered under the `mirage_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mirage");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, HistogramMaker>::new_with_constructor(
            latency_histogram as HistogramMaker,
        );
        let lines = Counter::default();
        let jobs = Family::<JobLabels, Counter>::default();
        let cache_hits = Family::<CacheLabels, Gauge<u64, AtomicU64>>::default();
        let cache_misses = Family::<CacheLabels, Gauge<u64, AtomicU64>>::default();
        let workspaces = Gauge::default();
        let jobs_active = Family::<JobLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency in seconds, by route",
            latency.clone(),
        );
        registry.register("lines", "Shell lines run", lines.clone());
        registry.register("jobs", "Jobs ended, by final status", jobs.clone());
        registry.register(
            "cache_hits",
            "Cache hits per workspace and mount",
            cache_hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Cache misses per workspace and mount",
            cache_misses.clone(),
        );
        registry.register("workspaces", "Workspaces held", workspaces.clone());
        registry.register(
            "jobs_active",
            "Jobs not ended yet, by status",
            jobs_active.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            lines,
            jobs,
            cache_hits,
            cache_misses,
            workspaces,
            jobs_active,
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
