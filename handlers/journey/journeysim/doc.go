// Package journeysim is the deterministic simulation of the install journey: the journey's
// decisions (package journey) run by a simulated runtime against a simulated Atlassian,
// journey store, outcome stream and clock, all in one goroutine and drawn from one seed,
// with faults, crashes at every record write, publication and effect, stalled instances
// racing on one request, and drains. After each run, Check tests the journey's rules
// against Atlassian's truth and the events published.
//
//	r := journeysim.Run(seed)
//	for _, v := range r.Violations {
//		fmt.Println(v, "\n", r.Trace)
//	}
//
// A seed replays exactly: the same seed makes the same run, trace included.
package journeysim
