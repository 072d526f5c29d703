package handlers

import (
	"context"

	"github.com/procurement/atlassian-installer/client"
)

// slotFreeWhileWaiting gives the step's concurrency slot back while one of its calls waits for
// a turn of the API's quota, and takes one again before the call goes on: a journey waiting
// for quota holds no slot, and the slots go to the journeys this instance holds that can work.
// The slot makes no room for more messages meanwhile (quotaWaits): a backlog waiting for the
// quota stays on the server, for every instance to share.
func (d *Delivery) slotFreeWhileWaiting(ctx context.Context) context.Context {
	in := d.in
	return client.ContextWithWaitHook(ctx, func() {
		in.quotaWaits.Add(1)
		<-in.slots
	}, func() {
		in.slots <- struct{}{}
		in.quotaWaits.Add(-1)
	})
}
