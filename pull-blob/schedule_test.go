package main

import (
	"context"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestScheduleBoundsSpools: with the bottom layer the smallest (fetched
// last, largest first) and a budget of 3 spools, 4 workers and a stream
// writing in order never hold more than the budget and one, and every
// layer is written: the stream's next layer always gets through.
func TestScheduleBoundsSpools(t *testing.T) {
	const n, jobs, budget = 60, 4, 3
	var layers []layer
	for i := range n {
		layers = append(layers, layer{index: i, desc: v1.Descriptor{Size: int64(i + 1)}})
	}
	s := newSchedule(layers, budget)
	spools := make([]chan struct{}, n)
	for i := range spools {
		spools[i] = make(chan struct{}, 1)
	}
	var mu sync.Mutex
	most := 0
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for {
				l, ok := s.take(context.Background())
				if !ok {
					return
				}
				mu.Lock()
				s.mu.Lock()
				most = max(most, s.held)
				s.mu.Unlock()
				mu.Unlock()
				spools[l.index] <- struct{}{}
			}
		})
	}
	for i := range spools {
		<-spools[i]
		s.written(i)
	}
	wg.Wait()
	if most > budget+1 {
		t.Errorf("%d spools held at once, want at most %d", most, budget+1)
	}
}

// TestScheduleStopsWhenCancelled: over budget, the layer the stream waits
// for is taken, another waits, and a worker waiting returns when the pull
// is cancelled.
func TestScheduleStopsWhenCancelled(t *testing.T) {
	layers := []layer{{index: 0, desc: v1.Descriptor{Size: 1}}, {index: 1, desc: v1.Descriptor{Size: 3}}, {index: 2, desc: v1.Descriptor{Size: 2}}}
	s := newSchedule(layers, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if l, ok := s.take(ctx); !ok || l.index != 1 {
		t.Fatalf("took %v %v, want layer 1 (the largest)", l.index, ok)
	}
	// Over budget, the stream's next layer still gets through.
	if l, ok := s.take(ctx); !ok || l.index != 0 {
		t.Fatalf("took %v %v, want layer 0 (the stream's next)", l.index, ok)
	}
	done := make(chan bool)
	go func() { _, ok := s.take(ctx); done <- ok }()
	cancel()
	if <-done {
		t.Fatal("a take after cancel returned a layer")
	}
}
