// MicroChat drives Debian's Chromium (/usr/bin/chromium); nothing is downloaded at install.
module.exports = {
  skipDownload: true,
  executablePath: process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium',
};
