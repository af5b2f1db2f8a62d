/**
 * The keyboard command that opens MicroChat's panel. Chrome has no built-in
 * command for its side panel, so the background answers this one; Firefox
 * opens its sidebar itself for `_execute_sidebar_action`. The manifest
 * (wxt.config.ts) and the background both take the names from here.
 */
export const OPEN_PANEL_COMMAND = 'open-side-panel';
export const FIREFOX_SIDEBAR_COMMAND = '_execute_sidebar_action';
/** Suggested only: people change it at chrome://extensions/shortcuts or about:addons. Free in both browsers' defaults. */
export const OPEN_PANEL_SHORTCUT = 'Alt+Shift+M';
/** The manifest's label for the command, in the browser's language (public/_locales/<lang>/messages.json). */
export const OPEN_PANEL_DESCRIPTION = '__MSG_command_open_panel__';
