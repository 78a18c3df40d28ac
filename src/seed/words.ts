/** Word lists for realistic-looking demo data. Names are common given names and surnames. */
export const FIRST_NAMES = [
  'Ada', 'Alan', 'Amara', 'Ana', 'Andrei', 'Aisha', 'Ben', 'Bianca', 'Carlos', 'Chen', 'Chloe', 'Dan',
  'Diego', 'Elena', 'Emil', 'Emma', 'Fatima', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ines', 'Ivan', 'Jack',
  'Jana', 'Jonas', 'Julia', 'Kai', 'Kenji', 'Lars', 'Leila', 'Liam', 'Lina', 'Lucas', 'Maya', 'Marco',
  'Maria', 'Mateo', 'Mia', 'Nadia', 'Noah', 'Nora', 'Olga', 'Omar', 'Priya', 'Rafael', 'Rosa', 'Sam',
  'Sara', 'Sofia', 'Tariq', 'Tom', 'Uma', 'Victor', 'Wei', 'Yara', 'Yusuf', 'Zoe', 'Ravi', 'Ingrid',
] as const;

export const LAST_NAMES = [
  'Abe', 'Adeyemi', 'Alvarez', 'Andersen', 'Becker', 'Bianchi', 'Brown', 'Chen', 'Costa', 'Dubois',
  'Fischer', 'Garcia', 'Gupta', 'Hansen', 'Hoffmann', 'Ivanova', 'Jensen', 'Kim', 'Kowalski', 'Lee',
  'Lopez', 'Martin', 'Meyer', 'Moreau', 'Nakamura', 'Nguyen', 'Novak', 'Okafor', 'Olsen', 'Patel',
  'Perez', 'Rossi', 'Santos', 'Schmidt', 'Silva', 'Singh', 'Smith', 'Suzuki', 'Tanaka', 'Wagner',
] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;

export const CHANNEL_NAMES = [
  'general', 'random', 'engineering', 'design', 'product', 'marketing', 'sales', 'support', 'ops',
  'announcements', 'hiring', 'frontend', 'backend', 'mobile', 'data', 'security', 'infra', 'qa',
  'releases', 'incidents', 'watercooler', 'music', 'pets', 'books', 'travel', 'food', 'fitness',
] as const;

export const CHANNEL_TOPICS = [
  'Company-wide announcements and work-based matters', 'Non-work banter and water cooler conversation',
  'Day-to-day coordination', 'Ask anything, no question too small', 'Weekly updates land here',
  'Alerts and on-call handovers', null, null,
] as const;

export const PROJECT_WORDS = [
  'apollo', 'atlas', 'beacon', 'cobalt', 'comet', 'delta', 'ember', 'falcon', 'gemini', 'harbor',
  'helix', 'indigo', 'juno', 'kepler', 'lumen', 'mercury', 'nimbus', 'nova', 'onyx', 'orbit', 'pulse',
  'quartz', 'raven', 'sierra', 'tango', 'terra', 'titan', 'vega', 'vortex', 'zephyr',
] as const;

export const OPENERS = [
  'Hey team,', 'Quick question:', 'FYI', 'Heads up:', 'Morning!', 'Update:', 'Thanks,', 'Hmm,', 'Nice!',
  'Agreed.', 'Sounds good.', '+1', 'lol', 'Got it.', 'On it.', 'Good catch.', '', '', '', '',
] as const;

export const PHRASES = [
  'the deploy finished without errors', 'can someone review my PR', 'the build is green again',
  'I pushed a fix for the login bug', 'standup moved to 10:30 today', 'the staging database is back up',
  'we should add an index for that query', 'let me check the logs', 'the dashboard looks much faster now',
  'I will be out tomorrow afternoon', 'who owns the billing service', 'the design review is on Thursday',
  'please update the ticket when done', 'the customer confirmed it works', 'lunch at noon?',
  'I left some comments on the doc', 'tests are flaky on CI again', 'the release notes are ready',
  'can we pair on this later', 'the migration ran in two minutes', 'that sounds like a cache issue',
  'the new onboarding flow is live', 'we hit the rate limit again', 'I rolled back the last change',
  'great work everyone', 'the meeting notes are in the wiki', 'let us sync after the demo',
  'the metrics dashboard shows a spike at 3am', 'I need access to the analytics project',
  'the bug only happens on Safari', 'retro is at 4pm', 'happy Friday', 'coffee anyone?',
] as const;

export const CLOSERS = ['', '', '', '', ' 🙂', ' 🎉', ' 👀', ' 🙏', ' 🚀', '?', '!', ' :)', ' (will follow up)'] as const;

export const EMOJI = ['👍', '❤️', '😂', '🎉', '👀', '🙏', '🚀', '✅', '🔥', '😮', '💯', '🙌', '🤔', '😢', '👏'] as const;

export const CUSTOM_STATUS = [
  'In a meeting', 'Focusing', 'Out sick', 'On vacation 🌴', 'Commuting', 'Working remotely', 'Lunch',
] as const;

export const TIMEZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Europe/London', 'America/Sao_Paulo', 'Asia/Kolkata', 'UTC'] as const;
export const LANGUAGES = ['en', 'de', 'fr', 'es', 'pt', 'ja'] as const;
export const DEVICES = ['ios', 'android', 'web', 'desktop-mac', 'desktop-windows'] as const;

export const FILE_KINDS = [
  { ext: 'png', type: 'image/png', base: ['screenshot', 'mockup', 'diagram', 'photo'], mu: 12.5 },
  { ext: 'jpg', type: 'image/jpeg', base: ['photo', 'whiteboard', 'team'], mu: 13 },
  { ext: 'pdf', type: 'application/pdf', base: ['report', 'invoice', 'spec', 'slides'], mu: 13.5 },
  { ext: 'txt', type: 'text/plain', base: ['notes', 'log', 'todo'], mu: 8 },
  { ext: 'csv', type: 'text/csv', base: ['export', 'metrics', 'users'], mu: 11 },
  { ext: 'zip', type: 'application/zip', base: ['archive', 'build', 'assets'], mu: 15 },
] as const;
