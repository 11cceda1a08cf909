// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package mock

import (
	"sync"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/drivers/tasktable"
	"github.com/droverhq/drover/plugins"
)

const sigkill = int(syscall.SIGKILL)

// task is one pretend task: a goroutine that waits for its run_for to
// pass or for a stop.
type task struct {
	cfg       *plugins.TaskConfig
	ts        taskSettings
	startedAt time.Time
	logger    hclog.Logger

	tasktable.Outcome

	stopOnce sync.Once
	stopCh   chan time.Duration // the stop timeout
}

func newTask(cfg *plugins.TaskConfig, ts taskSettings, startedAt time.Time, logger hclog.Logger) *task {
	return &task{
		cfg: cfg, ts: ts, startedAt: startedAt, logger: logger,
		stopCh: make(chan time.Duration, 1),
	}
}

// run starts the task's goroutines; print says whether to write its
// stdout (not again after a recover).
func (t *task) run(print bool) {
	if print && t.ts.StdoutString != "" && t.cfg.StdoutPath != "" {
		go t.writeStdout()
	}
	go t.live()
}

// live ends the task when run_for has passed since its start, or as a
// stop asks.
func (t *task) live() {
	var runFor <-chan time.Time
	if t.ts.runFor > 0 {
		timer := time.NewTimer(time.Until(t.startedAt.Add(t.ts.runFor)))
		defer timer.Stop()
		runFor = timer.C
	}
	select {
	case <-runFor:
		t.finish(&plugins.ExitResult{ExitCode: t.ts.ExitCode, Signal: t.ts.ExitSignal})
	case timeout := <-t.stopCh:
		grace := time.NewTimer(min(t.ts.killAfter, timeout))
		defer grace.Stop()
		select {
		case <-grace.C:
		case <-runFor:
			t.finish(&plugins.ExitResult{ExitCode: t.ts.ExitCode, Signal: t.ts.ExitSignal})
			return
		case <-t.Done():
			return
		}
		if t.ts.killAfter > timeout {
			t.finish(&plugins.ExitResult{Signal: sigkill})
		} else {
			t.finish(&plugins.ExitResult{})
		}
	case <-t.Done():
	}
}

// stop asks the task to exit and waits until it has.
func (t *task) stop(timeout time.Duration) {
	t.stopOnce.Do(func() { t.stopCh <- timeout })
	<-t.Done()
}

// finish records how the task ended; the first call wins.
func (t *task) finish(res *plugins.ExitResult) {
	if t.Set(res, time.Now()) {
		t.logger.Debug("task exited", "exit_code", res.ExitCode, "signal", res.Signal)
	}
}

// writeStdout writes stdout_string, then stdout_repeat more times every
// stdout_repeat_duration while the task runs, to the task's log files.
func (t *task) writeStdout() {
	w, err := supervise.NewLogWriter(t.cfg.StdoutPath, t.cfg.LogMaxFiles, int64(t.cfg.LogMaxFileSizeMB)<<20)
	if err != nil {
		t.logger.Warn("cannot open stdout", "error", err)
		return
	}
	defer w.Close()
	for i := 0; i <= t.ts.StdoutRepeat; i++ {
		if i > 0 {
			select {
			case <-time.After(t.ts.repeatEvery):
			case <-t.Done():
				return
			}
		}
		if _, err := w.Write([]byte(t.ts.StdoutString)); err != nil {
			t.logger.Warn("cannot write stdout", "error", err)
			return
		}
	}
}
