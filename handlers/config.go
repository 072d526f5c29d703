package handlers

import (
	"cmp"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/calls"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// Clock is the time source of the installer: clockwork.NewRealClock() in production,
// clockwork.NewFakeClock() in tests, so that waiting journeys are tested without sleeping.
type Clock = clockwork.Clock

// ServerClock tells the time on the NATS server's clock (see Config.ServerClock).
type ServerClock interface{ Now() time.Time }

// Defaults of the Config fields left zero; they follow the contract's configuration table.
const (
	DefaultConsumer        = "installer"
	DefaultConcurrency     = 64
	DefaultOrderWindow     = 10 * time.Minute
	MaxOrderWindow         = 10 * time.Minute // Atlassian's: provisioning times out after it
	DefaultPollInterval    = 5 * time.Second
	DefaultMaxPollInterval = time.Minute
	DefaultJourneyTimeout  = 2 * time.Hour
	DefaultAckWait         = 30 * time.Second
	DefaultDrainTimeout    = 25 * time.Second
	DefaultMaxAckPending   = 20000
	// DefaultJourneyRetention keeps a finished journey's whole state a week after its outcome
	// is published, for operators (installctl status) to look at.
	DefaultJourneyRetention = 7 * 24 * time.Hour
	// DefaultDuplicateHorizon keeps the compact record of a finished journey a year: until
	// then, the same request id is acknowledged without any Atlassian call.
	DefaultDuplicateHorizon = 365 * 24 * time.Hour
)

// Config tunes an Installer. Zero fields take the defaults above.
type Config struct {
	// Subjects name the subjects and event types (prefix INSTALLER_SUBJECT_PREFIX).
	Subjects events.Subjects
	// Source is the source of every published event (INSTALLER_SOURCE).
	Source string
	// Replicas of the KV bucket and streams the installer creates (INSTALLER_STREAM_REPLICAS).
	Replicas int
	// Concurrency bounds the journey steps running at once (INSTALLER_CONCURRENCY);
	// journeys waiting between polls hold no slot.
	Concurrency int
	// OrderWindow is the time allowed between the provisioning request and the order, at
	// most MaxOrderWindow; the order is sent no later than the window less a tenth of it
	// (at most 30s), and provisioning starts only while the window fits in JourneyTimeout.
	OrderWindow time.Duration
	// OrderRetry is the order's retry policy: the bound of one order call (a hung call is
	// cut then, the order read, and re-sent with the same orderId while the window is open),
	// the client's attempts and back-off within it, and the waits before the order is sent
	// or read again, which message redeliveries follow too. Zero fields take its defaults
	// (calls.OrderRetry.WithDefaults): the waits follow PollInterval and MaxPollInterval.
	OrderRetry calls.OrderRetry
	// PollInterval is the first wait between status polls; it doubles up to MaxPollInterval.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// JourneyTimeout, counted from the journey's first sight, ends it with deadline_exceeded.
	JourneyTimeout time.Duration
	// AckWait of the durable consumer (INSTALLER_ACK_WAIT) when the installer creates it;
	// an existing consumer keeps its own, which the installer follows (and logs when it
	// differs). A held message is marked in progress every third of the consumer's ack
	// wait, and a step's lease lasts twice it, so a crashed process's journeys resume
	// within about three times it.
	AckWait time.Duration
	// MaxAckPending bounds the messages held at once, waiting journeys included; like
	// AckWait, set when the installer creates the consumer.
	MaxAckPending int
	// DrainTimeout bounds how long Run waits for running steps once its context ends.
	DrainTimeout time.Duration
	// Consumer and Bucket name the durable consumer and the journey KV bucket;
	// FinishedBucket, the bucket of the compact records of finished journeys.
	Consumer       string
	Bucket         string
	FinishedBucket string
	// Retention is how long the outcome and dead-letter streams the installer creates keep
	// their messages (zero fields: events.DefaultRetention's).
	Retention events.Retention
	// JourneyRetention is how long a finished journey's state stays in Bucket once its outcome
	// is published (a per-key TTL; Bucket must allow them, as the bucket the installer creates
	// does).
	JourneyRetention time.Duration
	// DuplicateHorizon is how long the compact record of a finished journey stays in
	// FinishedBucket: until then, a request with the same id is acknowledged without any
	// Atlassian call. At least JourneyRetention.
	DuplicateHorizon time.Duration
	// Middleware wraps the handler of every delivery, outermost first (tracing, metrics).
	// Recover always wraps them all, so that no panic stops the consumer.
	Middleware []Middleware
	// Observe, when set, is told of every journey step (see StepObserver): step spans and
	// step metrics live there, outside journey code.
	Observe StepObserver
	// OnOutcome, when set, is told of every outcome event and dead letter published (see
	// OutcomeObserver): journey metrics live there, outside journey code.
	OnOutcome OutcomeObserver
	// Credentials, when set, picks the Atlassian credentials of a request's organization
	// for every call of its journey (client.ContextWithCredentials): the zero Credentials
	// with ok true leave the client's own. A request whose organization has none fails
	// unauthorized at stage lookup before any Atlassian call; a journey that may already
	// have provisioned waits for them instead, until its timeout (what it ordered must be
	// announced). Nil: every call uses the client's own credentials.
	Credentials func(orgID string) (cr client.Credentials, ok bool)
	// Limiter, when set, is the limiter of the Atlassian client's calls (client.WithLimiter),
	// such as a quota shared by every instance: a journey takes its order's turn from it
	// before it sends the provisioning request, so that the order follows the provisioning
	// answer at once. Nil: the order waits for its turn in its call, as every other call does.
	Limiter client.Limiter
	// OnFault, when set, is told of every faulty delivery and what became of it (see
	// MaxFaults and FaultObserver).
	OnFault FaultObserver
	// Clock drives every wait and timer, and measures time within this process.
	Clock Clock
	// ServerClock tells the time on the NATS server's clock. Every time a journey records
	// or compares is read on it (its start, the provisioning and the order sent, a lease's
	// end, its completion), so that instances whose clocks disagree agree on the order
	// window, leases and the journey timeout. Nil: estimated from the timestamps of the
	// JetStream answers of the server that stamps the journeys' records (internal/servertime:
	// sampled before Run consumes, then every 30s). A test whose installers run on a fake
	// Clock while its embedded server stamps real time sets it to that Clock.
	ServerClock ServerClock
	// Logger receives the installer's logs; never a secret.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	c.Replicas = cmp.Or(c.Replicas, 1)
	c.Concurrency = cmp.Or(c.Concurrency, DefaultConcurrency)
	c.OrderWindow = cmp.Or(c.OrderWindow, DefaultOrderWindow)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	c.MaxPollInterval = cmp.Or(c.MaxPollInterval, max(DefaultMaxPollInterval, c.PollInterval))
	c.OrderRetry = c.OrderRetry.WithDefaults(c.PollInterval, c.MaxPollInterval)
	c.JourneyTimeout = cmp.Or(c.JourneyTimeout, DefaultJourneyTimeout)
	c.AckWait = cmp.Or(c.AckWait, DefaultAckWait)
	c.MaxAckPending = cmp.Or(c.MaxAckPending, DefaultMaxAckPending)
	c.DrainTimeout = cmp.Or(c.DrainTimeout, DefaultDrainTimeout)
	c.Consumer = cmp.Or(c.Consumer, DefaultConsumer)
	c.Bucket = cmp.Or(c.Bucket, record.DefaultBucket)
	c.FinishedBucket = cmp.Or(c.FinishedBucket, record.DefaultFinishedBucket)
	c.Retention.Events = cmp.Or(c.Retention.Events, events.DefaultRetention.Events)
	c.Retention.DeadLetter = cmp.Or(c.Retention.DeadLetter, events.DefaultRetention.DeadLetter)
	c.JourneyRetention = cmp.Or(c.JourneyRetention, DefaultJourneyRetention)
	c.DuplicateHorizon = cmp.Or(c.DuplicateHorizon, max(DefaultDuplicateHorizon, c.JourneyRetention))
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return c, invalidOption("Replicas must be between 1 and 5")
	case c.Concurrency < 1:
		return c, invalidOption("Concurrency must be at least 1")
	case c.OrderWindow < 0, c.PollInterval < 0, c.JourneyTimeout < 0, c.DrainTimeout < 0:
		return c, invalidOption("OrderWindow, PollInterval, JourneyTimeout and DrainTimeout must not be negative")
	case c.OrderWindow > MaxOrderWindow:
		return c, invalidOption("OrderWindow must be at most " + MaxOrderWindow.String())
	case c.JourneyTimeout <= c.OrderWindow:
		return c, invalidOption("JourneyTimeout must be longer than OrderWindow")
	case c.MaxPollInterval < c.PollInterval:
		return c, invalidOption("MaxPollInterval must not be below PollInterval")
	case c.AckWait < time.Second:
		return c, invalidOption("AckWait must be at least 1s")
	case c.MaxAckPending < 1:
		return c, invalidOption("MaxAckPending must be at least 1")
	case c.Retention.Events < time.Second || c.Retention.DeadLetter < time.Second:
		return c, invalidOption("Retention must be at least 1s")
	case c.JourneyRetention < time.Second:
		return c, invalidOption("JourneyRetention must be at least 1s")
	case c.DuplicateHorizon < c.JourneyRetention:
		return c, invalidOption("DuplicateHorizon must not be below JourneyRetention")
	}
	if err := c.OrderRetry.Check(); err != nil {
		return c, invalidOption(err.Error())
	}
	return c, nil
}
