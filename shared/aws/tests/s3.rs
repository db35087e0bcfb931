//! The artifact store against the emulator.

mod common;

#[tokio::test]
async fn an_object_put_reads_back_byte_for_byte() {
    let aws = common::aws("s3").await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    aws.artifacts().put_object("models/v1/model.json", bytes.clone()).await.unwrap();
    assert_eq!(aws.artifacts().get_object("models/v1/model.json").await.unwrap(), Some(bytes));

    aws.artifacts().put_object("models/v1/model.json", b"replaced".to_vec()).await.unwrap();
    assert_eq!(aws.artifacts().get_object("models/v1/model.json").await.unwrap(), Some(b"replaced".to_vec()));
}

#[tokio::test]
async fn a_missing_object_reads_as_none() {
    let aws = common::aws("s3-missing").await;
    assert_eq!(aws.artifacts().get_object("models/current").await.unwrap(), None);
}
