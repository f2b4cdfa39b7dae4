// Pins prometheus-operator for its CRDs only (PodMonitor, PrometheusRule: src/cluster/addons/crds.ts);
// nothing here is built.
module kstack.local/tools/prometheus-operator

go 1.24

require github.com/prometheus-operator/prometheus-operator v0.85.0
