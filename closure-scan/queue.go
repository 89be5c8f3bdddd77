package main

import (
	"context"
	"sync"
)

// queue is the scanner's unbounded work list, shared by its workers. Tasks
// add tasks (a directory adds its subdirectories and files, a reference adds
// a store path), so a bounded channel could deadlock. It is a stack: working
// depth first keeps it short.
type queue struct {
	mu      sync.Mutex
	cond    sync.Cond
	tasks   []task
	pending int // tasks pushed and not yet finished
	err     error
}

func newQueue() *queue {
	q := &queue{}
	q.cond.L = &q.mu
	return q
}

func (q *queue) push(t task) {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	q.pending++
	q.mu.Unlock()
	q.cond.Signal()
}

// next waits for a task. It returns false when all work is done or has
// failed.
func (q *queue) next() (task, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.tasks) == 0 && q.pending > 0 && q.err == nil {
		q.cond.Wait()
	}
	if q.err != nil || len(q.tasks) == 0 {
		return task{}, false
	}
	t := q.tasks[len(q.tasks)-1]
	q.tasks[len(q.tasks)-1] = task{}
	q.tasks = q.tasks[:len(q.tasks)-1]
	return t, true
}

// done marks a task finished; err, the first one only, stops every worker.
func (q *queue) done(err error) {
	q.mu.Lock()
	q.pending--
	if err != nil && q.err == nil {
		q.err = err
	}
	wake := q.pending == 0 || q.err != nil
	q.mu.Unlock()
	if wake {
		q.cond.Broadcast()
	}
}

// run works through the queue, one goroutine per worker, until it is
// empty, a task fails or ctx is cancelled, and returns the first error.
func (q *queue) run(ctx context.Context, workers []*worker) error {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		if q.err == nil {
			q.err = ctx.Err()
		}
		q.mu.Unlock()
		q.cond.Broadcast()
	})
	defer stop()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for {
				t, ok := q.next()
				if !ok {
					return
				}
				q.done(w.run(t))
			}
		})
	}
	wg.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}
