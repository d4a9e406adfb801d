//go:build !unix

package pack

import (
	"context"
	"errors"
	"os"
	"time"
)

// lockFile creates path exclusively (O_EXCL), waiting until ctx is done while another process holds
// it, and removes it on unlock. Unlike flock, a lock file survives a crash of its holder; the error then
// names the file so an operator can remove it.
func lockFile(ctx context.Context, path string) (unlock func() error, err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() error { return os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("another process holds " + path + " (if none is running, remove it): " + ctx.Err().Error())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
