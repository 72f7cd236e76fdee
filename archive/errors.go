package archive

import "errors"

// ErrPurged says an event's body is gone by retention: the record remains, its
// content does not. Callers show it as purged rather than fail.
var ErrPurged = errors.New("archive: the event's body was purged by retention")

// ErrMediaGone is what a MediaSource returns for media that retention purged (or
// never stored); the EML then says so in the transcript instead of attaching it.
var ErrMediaGone = errors.New("archive: media not available")

// ErrMediaMismatch says stored media bytes do not hash to the SHA-256 the archive
// recorded: attaching them would put altered content into the record.
var ErrMediaMismatch = errors.New("archive: media does not match its recorded sha256")
