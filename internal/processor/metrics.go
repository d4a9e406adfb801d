package processor

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the processor's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	jobs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	alerts   prometheus.Counter
	alerting prometheus.Gauge
	runs     *prometheus.CounterVec
	lastRun  prometheus.Gauge
	inFlight prometheus.Gauge
}

// NewMetrics registers the processor's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tagdij_processor_jobs_total",
			Help: "Finished job attempts by result: processed, final-invalid, content-rejected, try-later, error, lease-lost."}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tagdij_processor_job_duration_seconds",
			Help: "Duration of one job attempt by result.", Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"result"}),
		alerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "tagdij_processor_expiry_alerts_total",
			Help: "Attempts that left a package not final while its signer certificate nears its notAfter (PRC-05)."}),
		alerting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tagdij_processor_expiry_alerting_jobs",
			Help: "Jobs whose last attempt raised the signer-certificate expiry alert, as of the last run."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tagdij_processor_runs_total",
			Help: "Processing runs by result: ok, error."}, []string{"result"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tagdij_processor_last_run_timestamp_seconds",
			Help: "When the last processing run ended (Unix time)."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tagdij_processor_jobs_in_flight", Help: "Jobs being processed."}),
	}
	reg.MustRegister(m.jobs, m.duration, m.alerts, m.alerting, m.runs, m.lastRun, m.inFlight)
	return m
}

func (m *Metrics) job(result string, seconds float64) {
	if m != nil {
		m.jobs.WithLabelValues(result).Inc()
		m.duration.WithLabelValues(result).Observe(seconds)
	}
}

func (m *Metrics) alert() {
	if m != nil {
		m.alerts.Inc()
	}
}

func (m *Metrics) run(s *Summary, err error, end float64) {
	if m == nil {
		return
	}
	if err != nil || s.Errors > 0 {
		m.runs.WithLabelValues("error").Inc()
	} else {
		m.runs.WithLabelValues("ok").Inc()
	}
	m.alerting.Set(float64(s.Alerts))
	m.lastRun.Set(end)
}

func (m *Metrics) flight(d float64) {
	if m != nil {
		m.inFlight.Add(d)
	}
}
