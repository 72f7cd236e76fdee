package archive

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// EMLFiles receives the files of an EML export one at a time: a folder
// (ExportEML) or a zip stream (ExportZip).
type EMLFiles interface {
	// Create starts the file name, of the UTC day; the export writes it whole
	// and closes it before it creates the next.
	Create(name string, day time.Time) (io.WriteCloser, error)
}

// dirFiles writes each file into a folder.
type dirFiles string

func (d dirFiles) Create(name string, _ time.Time) (io.WriteCloser, error) {
	return os.Create(filepath.Join(string(d), name))
}

// ExportZip writes the EML export as one zip stream to w, entry by entry as
// each conversation-day is rendered: nothing is held beyond one company-day's
// events and one message. When w can Flush (an http.ResponseWriter), it is
// flushed after each entry, so a long export reaches its reader as it goes.
// On an error the zip is left without its central directory, so that no
// reader takes a partial export for a whole one. It returns the entries
// written.
func ExportZip(ctx context.Context, src Source, media MediaSource, w io.Writer, o ExportOptions) (int, error) {
	zw := zip.NewWriter(w)
	flush, _ := w.(interface{ Flush() })
	names, err := ExportEMLTo(ctx, src, media, zipFiles{zw: zw, flush: flush}, o)
	if err != nil {
		return len(names), err
	}
	if err := zw.Close(); err != nil {
		return len(names), fmt.Errorf("archive: export: zip: %w", err)
	}
	if flush != nil {
		flush.Flush()
	}
	return len(names), nil
}

// zipFiles adds each file to a zip stream.
type zipFiles struct {
	zw    *zip.Writer
	flush interface{ Flush() }
}

func (z zipFiles) Create(name string, day time.Time) (io.WriteCloser, error) {
	// The entry's time is its day, so exporting the same days twice gives the
	// same bytes.
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: DayOf(day)})
	if err != nil {
		return nil, err
	}
	return zipEntry{w: w, z: z}, nil
}

type zipEntry struct {
	w io.Writer
	z zipFiles
}

func (e zipEntry) Write(p []byte) (int, error) { return e.w.Write(p) }

// Close ends the entry by pushing it to the stream's reader.
func (e zipEntry) Close() error {
	if err := e.z.zw.Flush(); err != nil {
		return err
	}
	if e.z.flush != nil {
		e.z.flush.Flush()
	}
	return nil
}
