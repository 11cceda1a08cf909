// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

func TestArtifactsFetchedBeforeStart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/conf/app.conf" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("setting=1"))
	}))
	defer srv.Close()

	t.Run("downloaded", func(t *testing.T) {
		alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
		alloc.Job.TaskGroups[0].Tasks[0].Artifacts = []*structs.TaskArtifact{{
			GetterSource: srv.URL + "/conf/app.conf", RelativeDest: "local/${NOMAD_TASK_NAME}",
		}}
		h := start(t, alloc)
		h.waitStatus(t, structs.AllocClientStatusRunning)
		b, err := os.ReadFile(filepath.Join(h.ar.AllocDir().Dir, "t0", "local", "t0", "app.conf"))
		if err != nil || string(b) != "setting=1" {
			t.Fatalf("artifact %q, %v", b, err)
		}
		st := h.ar.TaskState("t0")
		if hasEvent(st, taskrunner.TaskDownloadingArtifacts) == nil {
			t.Fatalf("events %v", eventTypes(st))
		}
	})

	t.Run("failure follows the restart policy", func(t *testing.T) {
		alloc := clienttest.Alloc(structs.JobTypeBatch, map[string]any{})
		alloc.Job.TaskGroups[0].Tasks[0].Artifacts = []*structs.TaskArtifact{{GetterSource: srv.URL + "/missing.bin"}}
		h := start(t, alloc)
		h.waitStatus(t, structs.AllocClientStatusFailed)
		if n := len(h.driver.Started()); n != 0 {
			t.Fatalf("driver started the task %d times", n)
		}
		st := h.ar.TaskState("t0")
		var failures int
		for _, e := range st.Events {
			if e.Type == taskrunner.TaskArtifactDownloadFailed {
				failures++
				if e.Details["download_error"] == "" {
					t.Fatalf("event without error: %+v", e)
				}
			}
		}
		if failures != 3 || st.Restarts != 2 || !st.Failed {
			t.Fatalf("%d download failures, %d restarts, failed %v: %v", failures, st.Restarts, st.Failed, eventTypes(st))
		}
	})
}
