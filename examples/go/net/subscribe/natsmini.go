package main

// A minimal NATS client, Go standard library only, written from the public
// protocol description (INFO/CONNECT/PUB/HPUB/SUB/UNSUB/MSG/HMSG/PING/PONG)
// and the JetStream JSON API: enough to read a stream with an ephemeral pull
// consumer. Synchronous: messages are read only while a call waits.
// The Python twin is examples/net/natsmini.py.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var errTimeout = errors.New("timed out")

type msg struct {
	subject string
	reply   string
	data    []byte
	status  int
}

type conn struct {
	c       net.Conn
	r       *bufio.Reader
	sid     int
	queues  map[int][]msg
	pongs   int
	prefix  string
	inbox   int
	inboxN  int
	timeout time.Duration
}

// dial connects to the first server of a comma-separated list that answers.
func dial(servers string, timeout time.Duration) (*conn, error) {
	var last error = errors.New("no server given")
	for _, s := range strings.Split(servers, ",") {
		c, err := dialOne(strings.TrimSpace(s), timeout)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, fmt.Errorf("could not connect to %s: %w", servers, last)
}

func dialOne(server string, timeout time.Duration) (*conn, error) {
	if !strings.Contains(server, "://") {
		server = "nats://" + server
	}
	u, err := url.Parse(server)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "4222")
	}
	nc, err := net.DialTimeout("tcp", host, timeout)
	if err != nil {
		return nil, err
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		nc.Close()
		return nil, err
	}
	c := &conn{c: nc, r: bufio.NewReaderSize(nc, 1<<16), queues: map[int][]msg{},
		prefix: "_INBOX." + hex.EncodeToString(rnd[:]), timeout: timeout}
	line, err := c.readLine(time.Now().Add(timeout))
	if err != nil {
		nc.Close()
		return nil, err
	}
	if !strings.HasPrefix(line, "INFO ") {
		nc.Close()
		return nil, fmt.Errorf("expected INFO, got %.80q", line)
	}
	var info struct {
		Headers bool `json:"headers"`
	}
	if err := json.Unmarshal([]byte(line[5:]), &info); err != nil || !info.Headers {
		nc.Close()
		return nil, fmt.Errorf("server INFO unusable or without headers support")
	}
	connect, _ := json.Marshal(map[string]any{"verbose": false, "pedantic": false, "headers": true,
		"no_responders": true, "protocol": 1, "name": "gpurent-subscribe-go", "lang": "go-natsmini", "version": "0.1"})
	if err := c.send([]byte("CONNECT " + string(connect) + "\r\n")); err != nil {
		nc.Close()
		return nil, err
	}
	if err := c.flush(); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *conn) close() { c.c.Close() }

func (c *conn) send(b []byte) error {
	_, err := c.c.Write(b)
	return err
}

func (c *conn) readLine(deadline time.Time) (string, error) {
	if err := c.c.SetReadDeadline(deadline); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "", errTimeout
		}
		return "", err
	}
	if len(line) > 4096 || !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("bad control line %.80q", line)
	}
	return line[:len(line)-2], nil
}

func (c *conn) readPayload(n int, deadline time.Time) ([]byte, error) {
	if n < 0 || n > 64<<20 {
		return nil, fmt.Errorf("bad payload size %d", n)
	}
	if err := c.c.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return nil, err
	}
	if !bytes.Equal(buf[n:], []byte("\r\n")) {
		return nil, errors.New("payload not followed by CRLF")
	}
	return buf[:n], nil
}

// processOne reads and dispatches one server operation.
func (c *conn) processOne(deadline time.Time) error {
	line, err := c.readLine(deadline)
	if err != nil {
		return err
	}
	op, rest, _ := strings.Cut(line, " ")
	switch strings.ToUpper(op) {
	case "MSG", "HMSG":
		f := strings.Fields(rest)
		hdr := strings.ToUpper(op) == "HMSG"
		want := 3
		if hdr {
			want = 4
		}
		if len(f) != want && len(f) != want+1 {
			return fmt.Errorf("bad %s line %.80q", op, line)
		}
		sid, err := strconv.Atoi(f[1])
		if err != nil {
			return err
		}
		m := msg{subject: f[0]}
		if len(f) == want+1 {
			m.reply = f[2]
		}
		total, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			return err
		}
		hlen := 0
		if hdr {
			if hlen, err = strconv.Atoi(f[len(f)-2]); err != nil || hlen > total {
				return fmt.Errorf("bad HMSG sizes %.80q", line)
			}
		}
		raw, err := c.readPayload(total, deadline)
		if err != nil {
			return err
		}
		if hdr {
			m.status = headerStatus(raw[:hlen])
		}
		m.data = raw[hlen:]
		if _, ok := c.queues[sid]; ok {
			c.queues[sid] = append(c.queues[sid], m)
		}
	case "PING":
		return c.send([]byte("PONG\r\n"))
	case "PONG":
		c.pongs++
	case "+OK", "INFO":
	case "-ERR":
		return fmt.Errorf("server error: %s", rest)
	default:
		return fmt.Errorf("unknown operation %.80q", line)
	}
	return nil
}

// headerStatus is the status of an HMSG header block ("NATS/1.0 404 No Messages"), 0 if none.
func headerStatus(block []byte) int {
	first, _, _ := strings.Cut(string(block), "\r\n")
	rest := strings.TrimSpace(strings.TrimPrefix(first, "NATS/1.0"))
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if err != nil {
		return 0
	}
	return n
}

func (c *conn) flush() error {
	want := c.pongs + 1
	if err := c.send([]byte("PING\r\n")); err != nil {
		return err
	}
	deadline := time.Now().Add(c.timeout)
	for c.pongs < want {
		if err := c.processOne(deadline); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) publish(subject, reply string, data []byte) error {
	r := ""
	if reply != "" {
		r = " " + reply
	}
	head := fmt.Sprintf("PUB %s%s %d\r\n", subject, r, len(data))
	return c.send(append(append([]byte(head), data...), '\r', '\n'))
}

func (c *conn) subscribe(subject string) (int, error) {
	c.sid++
	c.queues[c.sid] = nil
	return c.sid, c.send([]byte(fmt.Sprintf("SUB %s %d\r\n", subject, c.sid)))
}

func (c *conn) unsubscribe(sid int) {
	delete(c.queues, sid)
	_ = c.send([]byte(fmt.Sprintf("UNSUB %d\r\n", sid)))
}

func (c *conn) nextMsg(sid int, timeout time.Duration) (msg, error) {
	deadline := time.Now().Add(timeout)
	for len(c.queues[sid]) == 0 {
		if _, ok := c.queues[sid]; !ok {
			return msg{}, errors.New("no such subscription")
		}
		if err := c.processOne(deadline); err != nil {
			return msg{}, err
		}
	}
	m := c.queues[sid][0]
	c.queues[sid] = c.queues[sid][1:]
	return m, nil
}

// request publishes with a fresh reply subject and waits for its answer.
func (c *conn) request(subject string, data []byte) (msg, error) {
	c.inboxN++
	inbox := fmt.Sprintf("%s.%d", c.prefix, c.inboxN)
	sid, err := c.subscribe(inbox)
	if err != nil {
		return msg{}, err
	}
	defer c.unsubscribe(sid)
	if err := c.publish(subject, inbox, data); err != nil {
		return msg{}, err
	}
	m, err := c.nextMsg(sid, c.timeout)
	if err == nil && m.status == 503 {
		return msg{}, fmt.Errorf("no responders on %s", subject)
	}
	return m, err
}

// jsAPI calls $JS.API.<what> and decodes the answer into out.
func (c *conn) jsAPI(what string, body any, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	m, err := c.request("$JS.API."+what, payload)
	if err != nil {
		return err
	}
	var e struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.data, &e); err != nil {
		return err
	}
	if e.Error != nil {
		return fmt.Errorf("JetStream error %d/%d: %s", e.Error.Code, e.Error.ErrCode, e.Error.Description)
	}
	if out != nil {
		return json.Unmarshal(m.data, out)
	}
	return nil
}

type streamMsg struct {
	subject string
	seq     uint64
	data    []byte
}

// ackInfo reads (stream sequence, pending) from a JetStream delivery's reply
// subject $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>
// (the last seven tokens; 2.9 may put a domain and account hash in front).
func ackInfo(reply string) (uint64, uint64, error) {
	t := strings.Split(reply, ".")
	if len(t) < 9 || t[0] != "$JS" || t[1] != "ACK" {
		return 0, 0, fmt.Errorf("not a JetStream delivery: %q", reply)
	}
	seq, err1 := strconv.ParseUint(t[len(t)-4], 10, 64)
	pending, err2 := strconv.ParseUint(t[len(t)-1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad ack subject %q", reply)
	}
	return seq, pending, nil
}

// pullAll calls fn for every message of stream from startSeq on, in order,
// through an ephemeral pull consumer, until nothing is pending.
func (c *conn) pullAll(stream string, startSeq uint64, fn func(streamMsg) error) error {
	cfg := map[string]any{"ack_policy": "none", "replay_policy": "instant", "inactive_threshold": int64(60 * time.Second)}
	if startSeq > 1 {
		cfg["deliver_policy"], cfg["opt_start_seq"] = "by_start_sequence", startSeq
	} else {
		cfg["deliver_policy"] = "all"
	}
	var info struct {
		Name string `json:"name"`
	}
	if err := c.jsAPI("CONSUMER.CREATE."+stream, map[string]any{"stream_name": stream, "config": cfg}, &info); err != nil {
		return err
	}
	defer func() { _ = c.jsAPI("CONSUMER.DELETE."+stream+"."+info.Name, nil, nil) }()
	inbox := c.prefix + ".pull"
	sid, err := c.subscribe(inbox)
	if err != nil {
		return err
	}
	defer c.unsubscribe(sid)
	const batch = 256
	next := []byte(fmt.Sprintf(`{"batch":%d,"no_wait":true}`, batch))
	for {
		if err := c.publish("$JS.API.CONSUMER.MSG.NEXT."+stream+"."+info.Name, inbox, next); err != nil {
			return err
		}
		got, pending := 0, uint64(1)
		for got < batch && pending > 0 {
			m, err := c.nextMsg(sid, 2*time.Second)
			if err != nil {
				return err
			}
			if m.status != 0 { // 404 no messages / 408 expired: this batch is over
				break
			}
			seq, p, err := ackInfo(m.reply)
			if err != nil {
				return err
			}
			pending = p
			got++
			if err := fn(streamMsg{subject: m.subject, seq: seq, data: m.data}); err != nil {
				return err
			}
		}
		if got == 0 || pending == 0 {
			return nil
		}
	}
}
