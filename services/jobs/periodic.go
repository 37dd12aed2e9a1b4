package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Periodic is a task the queue runs on a schedule, once across all replicas (River runs
// periodic jobs on its elected leader only).
type Periodic struct {
	Name string
	// Next is the first time after a given one the task runs.
	Next func(time.Time) time.Time
	Run  func(ctx context.Context) error
}

type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string { return "jarvis.periodic" }

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	tasks map[string]Periodic
}

func (w *periodicWorker) Work(ctx context.Context, rj *river.Job[periodicArgs]) error {
	t, ok := w.tasks[rj.Args.Name]
	if !ok {
		return nil // a task an older or newer build had
	}
	return t.Run(ctx)
}

type scheduleFunc func(time.Time) time.Time

func (f scheduleFunc) Next(t time.Time) time.Time { return f(t) }

// periodicJobs are River's periodic jobs for tasks.
func periodicJobs(tasks []Periodic) ([]*river.PeriodicJob, map[string]Periodic, error) {
	byName := map[string]Periodic{}
	var out []*river.PeriodicJob
	for _, t := range tasks {
		if _, dup := byName[t.Name]; dup || t.Name == "" {
			return nil, nil, fmt.Errorf("periodic task %q is named twice or not at all", t.Name)
		}
		byName[t.Name] = t
		name := t.Name
		out = append(out, river.NewPeriodicJob(scheduleFunc(t.Next),
			func() (river.JobArgs, *river.InsertOpts) {
				return periodicArgs{Name: name}, &river.InsertOpts{Queue: queueMaintain, MaxAttempts: 1}
			},
			&river.PeriodicJobOpts{ID: "jarvis.periodic." + name}))
	}
	return out, byName, nil
}
