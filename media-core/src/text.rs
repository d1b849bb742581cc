//! The texts an owner writes on an item, its title and its description, and the contract's
//! bounds on them: "Title at most 200 characters, description at most 2,000 (longer ones are
//! cut)". This is the one place those bounds live. The upload metadata is cut through it
//! (`metadata::parse_upload_metadata`), the indexes cut what they show through it, and
//! update-content-index writes an owner's longer edit back cut through it: owners edit the two
//! attributes in the table directly, and IAM cannot bound a value's size.

/// One of the two texts an owner may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TextField {
    Title,
    Description,
}

impl TextField {
    pub const ALL: [TextField; 2] = [TextField::Title, TextField::Description];

    /// The longest value kept, in characters (Unicode scalar values, as the client counts them
    /// with `Array.from`).
    pub const fn max_chars(self) -> usize {
        match self {
            TextField::Title => 200,
            TextField::Description => 2_000,
        }
    }

    /// The item attribute holding it.
    pub const fn attribute(self) -> &'static str {
        match self {
            TextField::Title => "title",
            TextField::Description => "description",
        }
    }

    /// Where a value over the bound is cut: the byte index of its first character past the
    /// bound, or `None` when it is within.
    fn cut_at(self, text: &str) -> Option<usize> {
        text.char_indices().nth(self.max_chars()).map(|(at, _)| at)
    }

    /// `text` within the bound: whole, or cut on a character boundary.
    pub fn bound(self, mut text: String) -> Bounded {
        match self.cut_at(&text) {
            Some(at) => {
                text.truncate(at);
                Bounded::Cut(text)
            }
            None => Bounded::Within(text),
        }
    }

    /// The write that brings a stored value within the bound, or `None` when it is within.
    pub fn cut(self, stored: &str) -> Option<TextCut> {
        let at = self.cut_at(stored)?;
        Some(TextCut {
            field: self,
            stored: stored.to_owned(),
            bounded: stored[..at].to_owned(),
        })
    }
}

/// A text as [`TextField::bound`] left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bounded {
    /// It was within the bound.
    Within(String),
    /// It was longer, and this is its beginning.
    Cut(String),
}

impl Bounded {
    pub fn into_text(self) -> String {
        match self {
            Bounded::Within(text) | Bounded::Cut(text) => text,
        }
    }

    pub fn was_cut(&self) -> bool {
        matches!(self, Bounded::Cut(_))
    }
}

/// A stored title or description over its bound, and the value it is cut to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextCut {
    pub field: TextField,
    /// The value as stored (what the write is conditioned on).
    pub stored: String,
    /// Its first [`TextField::max_chars`] characters.
    pub bounded: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_bounds_titles_to_200_and_descriptions_to_2000_characters() {
        assert_eq!(TextField::Title.max_chars(), 200);
        assert_eq!(TextField::Description.max_chars(), 2_000);
        assert_eq!(
            (
                TextField::Title.attribute(),
                TextField::Description.attribute()
            ),
            ("title", "description")
        );
    }

    #[test]
    fn a_text_at_the_bound_is_kept_and_one_past_it_is_cut_on_a_character_boundary() {
        let at_bound = "é".repeat(200);
        assert_eq!(
            TextField::Title.bound(at_bound.clone()),
            Bounded::Within(at_bound.clone())
        );
        assert_eq!(TextField::Title.cut(&at_bound), None);
        let over = format!("{at_bound}📷");
        let bounded = TextField::Title.bound(over.clone());
        assert!(bounded.was_cut());
        assert_eq!(bounded.into_text(), at_bound);
        let cut = TextField::Title.cut(&over).unwrap();
        assert_eq!(
            (cut.field, cut.stored.as_str()),
            (TextField::Title, over.as_str())
        );
        assert_eq!(cut.bounded, at_bound);
        let description = "📷".repeat(2_001);
        assert_eq!(
            TextField::Description
                .cut(&description)
                .unwrap()
                .bounded
                .chars()
                .count(),
            2_000
        );
        assert_eq!(TextField::Description.cut(&"d".repeat(2_000)), None);
    }
}
