package apitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/openapi/openapitest"
)

// validator is the one checker of every test server's exchanges; loading
// and validating the document once per test binary is enough.
var validator = sync.OnceValues(openapitest.New)

// validating runs every exchange that the OpenAPI document covers through
// it and fails t when one is not as documented, so a handler that drifts
// from the document fails whichever test called it. The answer reaches the
// client unchanged; the check runs once it is written.
func validating(t testing.TB, v *openapitest.Validator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !v.Covers(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			// the API caps bodies at 1 MiB itself; what a test sends, it has in memory anyway
			reqBody, _ = io.ReadAll(r.Body)
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		sent := r.Clone(context.Background())
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		ex := openapitest.Exchange{Request: sent, RequestBody: reqBody, Status: rec.status,
			Header: rec.Header().Clone(), Body: rec.body.Bytes()}
		if err := v.Check(context.Background(), ex); err != nil {
			t.Errorf("apitest: the API drifted from its OpenAPI document (apiserver/openapi/openapi.yaml): %v\nresponse body: %.2000s", err, rec.body.Bytes())
		}
	})
}

// recorder passes an answer through while keeping a copy of it.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
