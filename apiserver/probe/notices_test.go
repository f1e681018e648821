package probe

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// Progress and logging notifications are counted however the stream is cut
// into reads; other messages, and the names in a result, are not.
func TestNoticeBodyCountsNotifications(t *testing.T) {
	stream := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n" +
		": a comment\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\": \"notifications/message\",\"params\":{\"level\":\"info\"}}\n\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\",\"params\":{}}\n\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"" + strings.Repeat("x", 300) +
		"notifications/progress\"}]}}\n\n" +
		"data: {\"method\":\"notifications/progress\"}"
	for name, r := range map[string]io.Reader{
		"whole":       strings.NewReader(stream),
		"byte a read": iotest.OneByteReader(strings.NewReader(stream)),
		"half reads":  iotest.HalfReader(strings.NewReader(stream)),
	} {
		var n atomic.Uint64
		b := &noticeBody{ReadCloser: io.NopCloser(r), count: &n}
		if _, err := io.ReadAll(b); err != nil {
			t.Fatal(err)
		}
		if got := n.Load(); got != 3 {
			t.Errorf("%s: counted %d notifications, want 3 (two on their lines, one cut off at the end)", name, got)
		}
	}
}
