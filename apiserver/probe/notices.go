package probe

import (
	"bytes"
	"io"
	"sync/atomic"
)

// noticeBody counts the progress and logging notifications an event
// stream carries, as the SDK reads it: a data line whose start names one.
type noticeBody struct {
	io.ReadCloser
	count *atomic.Uint64
	// line is the start of the current line (up to noticePeek bytes);
	// full once that much of it has been seen.
	line []byte
	full bool
}

// noticePeek is how much of a data line is looked at: a notification's
// method comes first or second in what the SDKs write.
const noticePeek = 160

var (
	noticeProgress = []byte(`"notifications/progress"`)
	noticeMessage  = []byte(`"notifications/message"`)
	dataField      = []byte("data:")
)

func (b *noticeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	rest := p[:n]
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		chunk := rest
		if i >= 0 {
			chunk = rest[:i]
		}
		if !b.full {
			take := min(len(chunk), noticePeek-len(b.line))
			b.line = append(b.line, chunk[:take]...)
			b.full = len(b.line) == noticePeek
		}
		if i < 0 {
			break
		}
		b.endLine()
		rest = rest[i+1:]
	}
	if err == io.EOF {
		b.endLine()
	}
	return n, err
}

// endLine counts the line just ended if it is a notification's data.
func (b *noticeBody) endLine() {
	if bytes.HasPrefix(b.line, dataField) && (bytes.Contains(b.line, noticeProgress) || bytes.Contains(b.line, noticeMessage)) {
		b.count.Add(1)
	}
	b.line, b.full = b.line[:0], false
}
