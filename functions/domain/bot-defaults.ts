/**
 * Default settings of the quarantine that keeps machine activity out of
 * scores. A model's `quarantine` section overrides any of them, and the
 * README section "Bots and noise" lists what each one catches.
 */

/**
 * User agents of crawlers, HTTP libraries, headless browsers, link
 * previewers and the link scanners of mail security gateways (Microsoft
 * Safe Links and Office link checks, Barracuda, Mimecast, Proofpoint,
 * Cisco, Trend Micro, Fortinet, Sophos, Symantec). Matched case-
 * insensitively, and `(?<!cu)` keeps the phone brand CUBOT out.
 */
export const DEFAULT_BOT_USER_AGENT_PATTERN = [
  '(?<!cu)bot\\b',
  'crawl',
  'spider',
  'slurp',
  'scanner',
  'headlesschrome',
  'phantomjs',
  'puppeteer',
  'playwright',
  'selenium',
  'python-requests',
  'python-urllib',
  'aiohttp',
  'httpx',
  'curl/',
  'wget/',
  'go-http-client',
  '\\bjava/',
  'okhttp',
  'apache-httpclient',
  'libwww-perl',
  'scrapy',
  'node-fetch',
  'axios/',
  'postmanruntime',
  'facebookexternalhit',
  'uripreview',
  'web preview',
  'whatsapp',
  'barracuda',
  'mimecast',
  'proofpoint',
  'urldefense',
  'messagelabs',
  'symantec',
  'trend ?micro',
  'forcepoint',
  'ironport',
  'cisco ?secure ?email',
  'fortimail',
  'sophos',
  'safelinks',
  'ms-office',
  'msoffice',
  'microsoft office existence discovery',
].join('|');

/** Track event names of email link clicks (Segment's Email spec first). */
export const DEFAULT_EMAIL_CLICK_EVENTS = [
  'Email Link Clicked',
  'Email Clicked',
  'Clicked Email Link',
] as const;

/**
 * Seconds after delivery before which a click counts as a scanner's.
 * Link scanners follow every link while the message is delivered, but
 * people take longer to open a message and click.
 */
export const DEFAULT_MIN_SECONDS_AFTER_DELIVERY = 10;

/**
 * Click properties read, in this order, for the delivery time of the
 * clicked message: an ISO 8601 date-time, or epoch seconds or milliseconds.
 */
export const DEFAULT_DELIVERY_TIME_PROPERTIES = [
  'deliveredAt',
  'delivered_at',
  'email_delivered_at',
  'sent_at',
  'email_sent_at',
] as const;

/**
 * Email clicks of one lead within the same second from which all of that
 * second's clicks count as a scanner following every link.
 */
export const DEFAULT_BURST_CLICKS_PER_SECOND = 3;

/** Track event names of email opens. */
export const DEFAULT_EMAIL_OPEN_EVENTS = ['Email Opened', 'Opened Email'];

/**
 * User agent of opens fetched by a privacy proxy. Apple Mail Privacy
 * Protection loads every image of a message when it is delivered, and
 * email providers commonly report those loads with the bare user agent
 * `Mozilla/5.0`.
 */
export const DEFAULT_PROXY_USER_AGENT_PATTERN = '^mozilla/5\\.0$';

/**
 * Open properties that email providers set to true for machine or proxy
 * opens (for example SendGrid's `sg_machine_open`).
 */
export const DEFAULT_PROXY_FLAG_PROPERTIES = [
  'machine_open',
  'sg_machine_open',
  'is_machine_open',
  'privacy_proxy',
  'apple_mpp',
] as const;
