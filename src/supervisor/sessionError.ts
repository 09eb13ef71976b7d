/** Failures a client caused or can fix; the message is shown to it as is. */
export class SessionError extends Error {}
