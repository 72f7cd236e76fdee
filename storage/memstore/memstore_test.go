package memstore_test

import (
	"testing"

	"github.com/multiline/multiline/storage/memstore"
	"github.com/multiline/multiline/storage/storetest"
)

func TestMemstore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() storetest.Backend {
		s := memstore.New()
		return func() storetest.Backend { return s }
	})
}
