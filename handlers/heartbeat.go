package handlers

// hold adds a delivered message to those the heartbeat marks in progress.
func (in *Installer) hold(d *Delivery) {
	in.heldMu.Lock()
	defer in.heldMu.Unlock()
	in.held[d] = struct{}{}
}

// release takes a message out of the heartbeat's, the first time: it is settled, or its
// handling ended without settling it. It then calls the delivery's OnSettled functions.
func (in *Installer) release(d *Delivery) {
	in.heldMu.Lock()
	_, held := in.held[d]
	delete(in.held, d)
	in.heldMu.Unlock()
	if !held {
		return
	}
	for _, f := range d.onSettled {
		f()
	}
}

// heartbeat marks every held, unsettled message in progress every third of the consumer's
// ack wait, one ticker for all of them, until stop is closed. A message is marked within
// AckWait/3 of its delivery and every AckWait/3 after, so JetStream never redelivers a
// message that is being worked on, waiting journeys included. The period follows the
// consumer's ack wait when the consumer is obtained again with another.
func (in *Installer) heartbeat(stop <-chan struct{}) {
	every := in.ackWaitOf() / 3
	t := in.clock.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.Chan():
			in.markHeld()
			if now := in.ackWaitOf() / 3; now != every {
				every = now
				t.Reset(every)
			}
		case <-stop:
			return
		}
	}
}

// markHeld marks every held message in progress, unless it is settled meanwhile.
func (in *Installer) markHeld() {
	in.heldMu.Lock()
	held := make([]*Delivery, 0, len(in.held))
	for d := range in.held {
		held = append(held, d)
	}
	in.heldMu.Unlock()
	for _, d := range held {
		d.markInProgress()
	}
}

// markInProgress tells JetStream the message is being worked on, unless it is settled.
func (d *Delivery) markInProgress() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return
	}
	if err := d.Msg.InProgress(); err != nil {
		d.in.log.Debug("mark in progress", "seq", d.meta.Sequence.Stream, "error", err)
	}
}
