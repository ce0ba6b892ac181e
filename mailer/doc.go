// Package mailer composes frontdesk's emails and delivers the outbox.
//
// Composing: ComposeInvite and ComposeReset render the subject, a plain text
// part and an HTML part (inline styles, no remote content) from embedded
// templates. The claim service stores the result in the outbox, in the
// transaction that creates the invite.
//
// Delivering: a Worker leases due outbox rows, sends them through a
// Transport over one connection per batch, and records each result: sent
// (with the server's reply; the token-bearing body is then cleared), queued
// again after a temporary failure (4xx, network, timeout) with exponential
// backoff for a day, or failed with the server's words (5xx). Transports are
// SMTP through go-mail (NewSMTP) and, when no SMTP server is configured, .eml
// files in a directory (NewFileTransport). See Worker for the delivery
// guarantees and the one window in which a message can be sent twice.
package mailer
