package archive_test

import (
	"testing"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/archive/archivetest"
)

func TestMemIndexConformance(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) (archive.Index, func()) { return archive.NewMemIndex(), func() {} }, nil)
}
