// The tenant's colours, used only when they stay readable (WCAG 2.1 AA: contrast >= 4.5:1).
//
//   readableColors({ primary: "#00507d", on_primary: "#ffffff" })
//   // {"--al-primary": "#00507d", "--al-on-primary": "#ffffff"}
//
// The primary colour is the background of the title bar, buttons and the citizen's messages
// (with on_primary as text) and the colour of links on white and on the light answer bubble;
// a pair that fails any of these checks is replaced by the accessible default.

export const DEFAULT_COLORS = { primary: "#00507d", on_primary: "#ffffff" };
const BACKGROUNDS = ["#ffffff", "#f3f4f6"]; // page and answer bubble (chat.css)
const AA = 4.5;

export function readableColors(colors) {
  const primary = colors?.primary;
  const onPrimary = colors?.on_primary;
  const ok = isHex(primary) && isHex(onPrimary) && contrast(primary, onPrimary) >= AA
    && BACKGROUNDS.every((background) => contrast(primary, background) >= AA);
  const chosen = ok ? { primary, on_primary: onPrimary } : DEFAULT_COLORS;
  return { "--al-primary": chosen.primary, "--al-on-primary": chosen.on_primary };
}

function isHex(value) {
  return typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value);
}

// Relative luminance and contrast ratio as defined in WCAG 2.1 (1.4.3).
function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}
