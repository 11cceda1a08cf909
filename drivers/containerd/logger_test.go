// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The shim hands the logger its config as argv built from the log URI's
// query; the JSON must survive the trip through the URI.
func TestLoggerURIRoundTrip(t *testing.T) {
	spec := loggerSpec{StdoutPath: "/a b/web.stdout", StderrPath: "/x&y=z/web.stderr", MaxFiles: 3, MaxFileBytes: 1 << 20}
	creator, err := loggerIO("/usr/bin/drover", spec)
	if err != nil {
		t.Fatal(err)
	}
	io, err := creator("id")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(io.Config().Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "binary" || u.Path != "/usr/bin/drover" || len(u.Query()) != 1 {
		t.Fatalf("log URI = %s", u)
	}
	if got, want := u.Query().Get(loggerArg), `{"stdout":"/a b/web.stdout","stderr":"/x\u0026y=z/web.stderr","max_files":3,"max_file_bytes":1048576}`; got != want {
		t.Errorf("logger argument = %s, want %s", got, want)
	}
	if _, err := loggerIO("relative", spec); err == nil {
		t.Error("accepted a relative logging binary")
	}
}

// runLogger copies the two streams into separate rotating files, signals
// ready once its files are open, and returns at EOF.
func TestRunLogger(t *testing.T) {
	dir := t.TempDir()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	readyR, readyW, _ := os.Pipe()
	spec := `{"stdout":"` + filepath.Join(dir, "logs", "web.stdout") + `","stderr":"` + filepath.Join(dir, "logs", "web.stderr") + `","max_files":2,"max_file_bytes":10}`
	done := make(chan int, 1)
	go func() { done <- runLogger(spec, outR, errR, readyW) }()

	buf := make([]byte, 1)
	if n, _ := readyR.Read(buf); n != 0 {
		t.Fatal("ready pipe carried data")
	}
	outW.WriteString("0123456789abcdefghij-tail\n")
	errW.WriteString("oops\n")
	outW.Close()
	errW.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("runLogger = %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runLogger did not return at EOF")
	}
	// 26 bytes in files of 10, keeping 2: .1 and .2 remain.
	for name, want := range map[string]string{"web.stdout.1": "abcdefghij", "web.stdout.2": "-tail\n", "web.stderr.0": "oops\n"} {
		if got := readFile(filepath.Join(dir, "logs", name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "web.stdout.0")); !os.IsNotExist(err) {
		t.Errorf("oldest file not pruned: %v", err)
	}
	if code := runLogger("{", nil, nil, nil); code == 0 {
		t.Error("runLogger accepted a bad spec")
	}
}
