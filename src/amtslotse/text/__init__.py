"""Text helpers every flow shares (DESIGN: "one home for folding, dates, phrase lists and file
readers"). So far: `dates` (month names in the languages of our users, date parsing), `fold`
(the matching forms of text: normalize, fold, typo fixing) and `numbers` (digits a program reads)."""
