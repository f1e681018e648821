// Package promtest scrapes a Prometheus endpoint over real HTTP and reads
// the samples back, for tests of the metrics the API serves.
package promtest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is one scrape: its text as served and the families parsed from it.
type Scrape struct {
	Text     string
	Families map[string]*dto.MetricFamily
}

// Get scrapes url, which must answer 200 with the text format.
func Get(t testing.TB, url string) Scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s: %s", url, resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("scrape %s: not the text format: %v\n%s", url, err, body)
	}
	return Scrape{Text: string(body), Families: fams}
}

// Value is the sample of family name whose labels include labels: a
// counter's or gauge's value, a histogram's count. ok is false when there
// is none.
func (s Scrape) Value(name string, labels map[string]string) (v float64, ok bool) {
	fam := s.Families[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !matches(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// Has reports whether family name has a sample.
func (s Scrape) Has(name string) bool {
	return len(s.Families[name].GetMetric()) > 0
}

// LabelValues is every value label takes in family name.
func (s Scrape) LabelValues(name, label string) []string {
	var out []string
	for _, m := range s.Families[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}
