package csvio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// MaxLine is the longest physical line (and the longest record, for quoted
// values that span lines) Import accepts. csv.Reader assembles a whole record
// in memory before returning it, so without a limit one runaway line or an
// unclosed quote near the top of a large file would make it buffer the rest
// of the file; no customer record comes anywhere near this size.
const MaxLine = 1 << 20

// limitError is the too-long line or record: it ends the import, because
// after it there is no telling where the next record starts.
type limitError struct {
	line      int // the physical line where the limit was crossed
	startLine int // the line where the record started
}

func (e *limitError) Error() string {
	line, reason := e.problem()
	return fmt.Sprintf("line %d: %s", line, reason)
}

// problem is the limit error as a Problem.
func (e *limitError) problem() (int, string) {
	if e.startLine == e.line {
		return e.line, "the line is longer than 1 MiB, far too long for a customer record; is this the right file?"
	}
	return e.startLine, fmt.Sprintf("a quoted value that starts on this line is still open on line %d, past 1 MiB; a closing quote (\") is probably missing", e.line)
}

// lineReader feeds csv.Reader and enforces MaxLine. It hands out at most one
// line per Read call. Since bufio.Reader (inside csv.Reader) fills by calling
// Read once, csv.Reader then never holds bytes beyond the line it is parsing,
// so when it returns a record, everything delivered so far belongs to records
// already returned: the line counter here is exact at record boundaries,
// which is what gives the record limit its start line.
type lineReader struct {
	br       *bufio.Reader
	line     int   // newlines delivered
	lineLen  int   // bytes of the current line delivered, without its newline
	recLen   int   // bytes delivered since startRecord
	recLine  int   // line where the current record starts
	consumed int64 // bytes delivered, for the progress estimate
	err      error // sticky: csv.Reader calls again after an error
}

func newLineReader(br *bufio.Reader) *lineReader {
	return &lineReader{br: br, recLine: 1}
}

// startRecord is called before each csv.Reader.Read.
func (l *lineReader) startRecord() {
	l.recLen = 0
	l.recLine = l.line + 1
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if l.br.Buffered() == 0 {
		if _, err := l.br.Peek(1); err != nil {
			l.err = err
			return 0, err
		}
	}
	buf, _ := l.br.Peek(min(l.br.Buffered(), len(p)))
	n, content := len(buf), len(buf)
	nl := bytes.IndexByte(buf, '\n')
	if nl >= 0 {
		n, content = nl+1, nl
		if nl > 0 && buf[nl-1] == '\r' {
			content--
		}
	}
	switch {
	case l.lineLen+content > MaxLine:
		l.err = &limitError{line: l.line + 1, startLine: l.line + 1}
		return 0, l.err
	case l.recLen+n > MaxLine+2: // +2: the one-line record's own CR LF
		l.err = &limitError{line: l.line + 1, startLine: l.recLine}
		return 0, l.err
	}
	copy(p, buf[:n])
	l.br.Discard(n)
	l.consumed += int64(n)
	if nl >= 0 {
		// csv.Reader skips blank lines between records; so does the count of
		// where the next record starts.
		if l.recLen == 0 && content == 0 {
			l.recLine++
		} else {
			l.recLen += n
		}
		l.line++
		l.lineLen = 0
	} else {
		l.recLen += n
		l.lineLen += n
	}
	return n, nil
}

// sniff strips a UTF-8 byte order mark (Excel's "CSV UTF-8" writes one) and
// refuses the files people most often pick by mistake, which would otherwise
// produce a screenful of baffling per-line errors.
func sniff(br *bufio.Reader) (bom int, err error) {
	head, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		br.Discard(3)
		return 3, nil
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		return 0, errors.New("the file is UTF-16 text; save it as \"CSV UTF-8\" and import that")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		return 0, errors.New("the file is a spreadsheet workbook, not CSV; save it as \"CSV UTF-8\" and import that")
	}
	return 0, nil
}

// remaining guesses how many bytes r still has, for the progress estimate;
// 0 when it cannot tell (a pipe).
func remaining(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		return max(fi.Size()-off, 0)
	}
	return 0
}
